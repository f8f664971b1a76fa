import abcjs, { type AudioTrackNoteItem, type TuneObject } from 'abcjs';

/**
 * The part of abcjs this lab uses. `parseOnly` is abcjs' parser without the renderer: it needs no
 * DOM, so it runs in Node as it does in a browser.
 */

/** Parses one ABC song; the first tune, or undefined when abcjs finds none. Never throws. */
export function parseTune(abc: string): { tune?: TuneObject; error?: string } {
  try {
    const tunes = abcjs.parseOnly(abc);
    return { tune: tunes[0] };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** abcjs' warnings as plain text (they come with HTML markup for its editor). */
export function plainWarnings(tune: TuneObject): string[] {
  return (tune.warnings ?? []).map((w) =>
    w
      .replace(/<[^>]*>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

/** The note events abcjs' own synthesizer would play: repeats expanded, ties merged, key applied. */
export function audioNotes(tune: TuneObject): { qpm: number; notes: AudioTrackNoteItem[]; wholeNotes: number } {
  const audio = tune.setUpAudio({ chordsOff: true });
  const notes = audio.tracks
    .flat()
    .filter((e): e is AudioTrackNoteItem => e.cmd === 'note')
    .sort((a, b) => a.start - b.start || a.pitch - b.pitch);
  return { qpm: audio.tempo, notes, wholeNotes: audio.totalDuration };
}
