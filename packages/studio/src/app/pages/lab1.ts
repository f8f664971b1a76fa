import * as abcjs from 'abcjs';
import { fetchJson, fetchText, type RunSummary, runFileUrl, runsOf } from '../lib/api.js';
import { field, h, uid } from '../lib/dom.js';
import { pauseSong, playSong, setTempo, stopSong, tuneNotes } from '../lib/song-player.js';

/** A song of a run: its ABC file (when there is one) and the MIDI and WAV the lab made beside it. */
interface Song {
  run: RunSummary;
  abc?: string;
  midi?: string;
  wav?: string;
  title?: string;
  /** The lab's verdict from its songs report, when it wrote one. */
  verdict?: { valid: boolean; reason?: string };
}

/**
 * The report Lab 1 writes beside its songs (`outputs/songs.json`): one entry per generated song,
 * valid or not, with the files written for the valid ones (paths relative to the run folder).
 */
interface SongsReport {
  songs: {
    index?: number;
    valid: boolean;
    reason?: string;
    title?: string;
    files?: { abc?: string; mid?: string; wav?: string };
  }[];
}

/** Songs of a run: those its reports list (invalid ones too), then any other .abc file in outputs/. */
async function songsOf(run: RunSummary): Promise<Song[]> {
  const songs: Song[] = [];
  const has = new Set(run.outputs.map((o) => o.path));
  for (const report of run.outputs.filter((o) => /(^|\/)songs\.json$/.test(o.path))) {
    let parsed: SongsReport;
    try {
      parsed = await fetchJson<SongsReport>(runFileUrl(run, report.path));
    } catch {
      continue; // unreadable: the .abc files are still found below
    }
    for (const entry of parsed.songs ?? []) {
      const f = entry.files ?? {};
      songs.push({
        run,
        abc: f.abc && has.has(f.abc) ? f.abc : undefined,
        midi: f.mid && has.has(f.mid) ? f.mid : undefined,
        wav: f.wav && has.has(f.wav) ? f.wav : undefined,
        title: entry.title ?? `song ${entry.index ?? songs.length + 1}`,
        verdict: { valid: Boolean(entry.valid), reason: entry.reason },
      });
    }
  }
  const listed = new Set(songs.map((s) => s.abc));
  for (const o of run.outputs) {
    const m = /^(.*)\.abc$/i.exec(o.path);
    if (!m || listed.has(o.path)) continue;
    const sibling = (ext: string) =>
      run.outputs.find((x) => x.path.toLowerCase() === `${m[1]}.${ext}`.toLowerCase())?.path;
    songs.push({ run, abc: o.path, midi: sibling('mid') ?? sibling('midi'), wav: sibling('wav') });
  }
  return songs;
}

const stripTags = (s: string) =>
  s
    .replace(/<[^>]*>/g, '')
    .replace(/\s+/g, ' ')
    .trim();

/** The studio's own check when the lab gave none: abcjs parses it without warnings and it has notes. */
export function checkTune(tunes: abcjs.TuneObject[]): { valid: boolean; reason: string } {
  if (!tunes.length) return { valid: false, reason: 'no tune found (an ABC tune starts with an X: line)' };
  const tune = tunes[0];
  if (tune.warnings?.length) return { valid: false, reason: stripTags(tune.warnings[0]) };
  const notes = tuneNotes(tune, 192).notes.length;
  if (!notes) return { valid: false, reason: 'the tune has no notes' };
  return { valid: true, reason: `parses without warnings; ${notes} notes` };
}

/** A song the lab found invalid and wrote no file for: its verdict only. */
function invalidCard(song: Song, index: number): HTMLElement {
  return h(
    'article',
    { class: 'card song', 'data-song': song.title ?? '' },
    h(
      'h3',
      {},
      `${index + 1}. ${song.title ?? 'song'} `,
      h('span', { class: 'badge bad', 'data-testid': 'validity' }, 'invalid'),
    ),
    h(
      'p',
      { class: 'muted', 'data-testid': 'reason' },
      `${song.verdict?.reason ?? 'invalid'} — checked by the lab. Run ${song.run.name}; no ABC file was written for it.`,
    ),
  );
}

function songCard(song: Song & { abc: string }, text: string, index: number): HTMLElement {
  const id = `${song.run.id}/${song.abc}`;
  const title = /^T:\s*(.+)$/m.exec(text)?.[1]?.trim() || song.title || song.abc.split('/').pop() || 'song';
  const headingId = uid('song');
  const sheet = h('div', { class: 'sheet', role: 'img', 'aria-label': `Sheet music of ${title}` });
  const card = h('article', { class: 'card song', 'aria-labelledby': headingId, 'data-song': song.abc });
  const tunes = abcjs.renderAbc(sheet, text, {
    responsive: 'resize',
    add_classes: true,
    paddingleft: 0,
    paddingright: 0,
  });
  const own = checkTune(tunes);
  const verdict = song.verdict
    ? {
        valid: song.verdict.valid,
        reason: song.verdict.reason ?? (song.verdict.valid ? 'valid' : 'invalid'),
        by: 'the lab',
      }
    : { ...own, by: 'the studio (abcjs)' };
  const badge = h(
    'span',
    { class: `badge ${verdict.valid ? 'ok' : 'bad'}`, 'data-testid': 'validity' },
    verdict.valid ? 'valid' : 'invalid',
  );
  const tune = tunes[0];
  const written = tune && own.valid ? tuneNotes(tune, 192).bpm : 120;

  const status = h('span', { class: 'muted', role: 'status', 'data-testid': 'play-state' }, 'stopped');
  const play = h('button', { type: 'button', 'aria-pressed': 'false', disabled: !tune || !own.valid }, 'Play');
  const tempo = h('input', {
    type: 'range',
    min: 40,
    max: 240,
    step: 1,
    value: Math.round(written),
  }) as HTMLInputElement;
  const tempoOut = h('output', { for: tempo.id }, `${Math.round(written)} BPM`);
  tempo.addEventListener('input', () => {
    tempoOut.textContent = `${tempo.value} BPM`;
    tempo.setAttribute('aria-valuetext', `${tempo.value} beats per minute`);
    setTempo(id, Number(tempo.value));
  });
  const onState = (state: 'playing' | 'paused' | 'stopped') => {
    status.textContent = state;
    play.textContent = state === 'playing' ? 'Pause' : 'Play';
    play.setAttribute('aria-pressed', String(state === 'playing'));
  };
  play.addEventListener('click', () => {
    if (play.getAttribute('aria-pressed') === 'true') pauseSong(id);
    else
      void playSong(id, tune, Number(tempo.value), onState).catch((err: Error) => {
        status.textContent = `cannot play: ${err.message}`;
      });
  });
  play.setAttribute('aria-label', `Play ${title}`);

  const downloads = h(
    'p',
    { class: 'downloads' },
    'Download: ',
    h('a', { href: runFileUrl(song.run, song.abc), download: song.abc.split('/').pop() }, 'ABC'),
    song.midi ? h('a', { href: runFileUrl(song.run, song.midi), download: song.midi.split('/').pop() }, 'MIDI') : null,
    song.wav ? h('a', { href: runFileUrl(song.run, song.wav), download: song.wav.split('/').pop() }, 'WAV') : null,
  );
  if (!song.midi && tune && own.valid) {
    // No MIDI from the lab: offer one made from the ABC here.
    const link = h(
      'a',
      {
        href: '#',
        download: `${song.abc
          .split('/')
          .pop()
          ?.replace(/\.abc$/i, '')}.mid`,
      },
      'MIDI (made here)',
    );
    link.addEventListener('click', (e) => {
      if (link.getAttribute('href') !== '#') return;
      e.preventDefault();
      const midi = abcjs.synth.getMidiFile(tune, { midiOutputType: 'binary' }) as unknown as Uint8Array[];
      link.setAttribute('href', URL.createObjectURL(new Blob([midi[0] as BlobPart], { type: 'audio/midi' })));
      link.click();
    });
    downloads.append(link);
  }
  if (!song.wav) downloads.append(h('span', { class: 'muted' }, ' (no WAV in this run)'));

  card.append(
    h('h3', { id: headingId }, `${index + 1}. ${title} `, badge),
    h(
      'p',
      { class: 'muted', 'data-testid': 'reason' },
      `${verdict.reason} — checked by ${verdict.by}. Run ${song.run.name}, ${song.abc}.`,
    ),
    h('div', { class: 'row' }, play, field('Tempo', tempo), tempoOut, status),
    sheet,
    downloads,
  );
  return card;
}

/** Lab 1: every generated song as sheet music, playable, with its validity and downloads. */
export async function render(main: HTMLElement): Promise<() => void> {
  main.append(
    h('h1', {}, 'Lab 1: generated songs'),
    h('p', { class: 'lead' }, 'Songs the LSTM wrote, as sheet music. Play them, change the tempo, download them.'),
  );
  const runs = await runsOf('lab1-music');
  const list = h('div', {});
  main.append(list);
  let count = 0;
  for (const run of runs) {
    const songs = await songsOf(run);
    if (!songs.length) continue;
    list.append(h('h2', {}, `Run ${run.name}`));
    for (const song of songs) {
      const abc = song.abc;
      list.append(
        abc ? songCard({ ...song, abc }, await fetchText(runFileUrl(run, abc)), count) : invalidCard(song, count),
      );
      count += 1;
    }
  }
  if (!count)
    list.append(
      h(
        'p',
        { class: 'note' },
        'No songs yet. Train with `introdl lab1 train --preset quick`, then `introdl lab1 generate --checkpoint <run>`: songs are the .abc files in a run\u2019s outputs/.',
      ),
    );
  return stopSong;
}
