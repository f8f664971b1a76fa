import { writeFileAtomic } from '@introdl/core';
import { midiBytes } from './midi.js';
import { performSong } from './notes.js';
import { encodeWav, renderPerformance } from './wav.js';

/** The files written for one song. */
export interface SongFiles {
  abc: string;
  mid: string;
  wav: string;
  seconds: number;
}

/**
 * Writes `<base>.abc`, `<base>.mid` and `<base>.wav` for a song that {@link checkSong} passed.
 * Everything is computed before anything is written, and each file is written atomically, so a
 * failure (an unplayable song, audio that cannot render) leaves no partial files behind.
 */
export async function writeSongFiles(abc: string, base: string, sampleRate?: number): Promise<SongFiles> {
  const performance = performSong(abc, `${base}.abc`);
  const mid = midiBytes(performance);
  const { samples, sampleRate: rate } = await renderPerformance(performance, { sampleRate });
  const wav = encodeWav(samples, rate);
  const files = { abc: `${base}.abc`, mid: `${base}.mid`, wav: `${base}.wav`, seconds: samples.length / rate };
  await writeFileAtomic(files.abc, abc.endsWith('\n') ? abc : `${abc}\n`);
  await writeFileAtomic(files.mid, mid);
  await writeFileAtomic(files.wav, wav);
  return files;
}
