import { BadFileError } from '@introdl/core';
import { audioNotes, parseTune } from '../abc/abcjs.js';

/** One note to play: a MIDI pitch from `time` for `duration` seconds. */
export interface PlayedNote {
  midi: number;
  time: number;
  duration: number;
  /** 0–1. */
  velocity: number;
}

/** A song as notes in seconds. */
export interface Performance {
  title?: string;
  /** Quarter notes per minute (the tune's Q:, else abcjs' default). */
  qpm: number;
  notes: PlayedNote[];
  /** When the last note ends. */
  seconds: number;
}

/**
 * The notes of an ABC song, as abcjs' synthesizer would play them (repeats, ties, triplets, key
 * signature and accidentals applied), timed in seconds at the tune's tempo.
 *
 * @throws BadFileError (naming `what`) when abcjs cannot read the song or it has no notes.
 */
export function performSong(abc: string, what = 'song'): Performance {
  const { tune, error } = parseTune(abc);
  if (!tune || error !== undefined) throw new BadFileError(what, `abcjs cannot read it${error ? `: ${error}` : ''}`);
  const { qpm, notes } = audioNotes(tune);
  if (notes.length === 0) throw new BadFileError(what, 'has no notes to play');
  const secondsPerWhole = (4 * 60) / qpm;
  const played = notes.map((n) => ({
    midi: n.pitch,
    time: n.start * secondsPerWhole,
    duration: n.duration * secondsPerWhole,
    velocity: Math.min(1, Math.max(0, n.volume / 127)),
  }));
  const seconds = Math.max(...played.map((n) => n.time + n.duration));
  return { title: /^T:(.*)$/m.exec(abc)?.[1].trim(), qpm, notes: played, seconds };
}

/** The frequency in Hz of a MIDI pitch (69 = A4 = 440 Hz, equal temperament). */
export function midiToHz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}
