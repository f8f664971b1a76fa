import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readMidiNotes } from '../src/audio/midi.js';
import { midiToHz, performSong } from '../src/audio/notes.js';
import { writeSongFiles } from '../src/audio/song-files.js';
import { decodeWav, RELEASE_SECONDS, renderPerformance } from '../src/audio/wav.js';
import { dominantFrequency, firstSound, lastSound } from './spectrum.js';

/** One bar of 4/4 at 120 quarter notes a minute: A4 (440 Hz) for a half note, then C5 (523 Hz). */
const ONE_BAR = 'X:1\nT:One Bar\nM:4/4\nL:1/4\nQ:1/4=120\nK:C\nA2 c2|]\n';

const dir = mkdtempSync(path.join(tmpdir(), 'lab1-audio-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('performSong', () => {
  it('times the notes in seconds at the tune tempo, with the key applied', () => {
    const p = performSong(ONE_BAR);
    expect(p.qpm).toBe(120);
    expect(p.notes.map((n) => n.midi)).toEqual([69, 72]);
    expect(p.notes[0].time).toBeCloseTo(0, 6);
    expect(p.notes[0].duration).toBeCloseTo(1, 6);
    expect(p.notes[1].time).toBeCloseTo(1, 6);
    expect(p.seconds).toBeCloseTo(2, 6);
    // D major: F and C are sharp.
    expect(performSong('X:1\nT:k\nM:4/4\nL:1/4\nK:D\nFcFc|]\n').notes.map((n) => n.midi)).toEqual([66, 73, 66, 73]);
  });

  it('expands repeats and merges ties as abcjs plays them', () => {
    const p = performSong('X:1\nT:r\nM:2/4\nL:1/4\nK:C\nC-C|D E:|\n');
    expect(p.notes.map((n) => n.midi)).toEqual([60, 62, 64, 60, 62, 64]);
    expect(p.notes[0].duration).toBeCloseTo(p.notes[1].duration * 2, 6);
  });

  it('is a clear error for a song without notes', () => {
    expect(() => performSong('X:1\nT:x\nM:4/4\nL:1/4\nK:C\n', 'empty.abc')).toThrow(/empty\.abc: .*no notes/);
  });

  it('knows A4 is 440 Hz', () => {
    expect(midiToHz(69)).toBe(440);
    expect(midiToHz(72)).toBeCloseTo(523.25, 2);
  });
});

describe('rendered audio carries the tune', () => {
  it('renders a one-bar tune whose first note is A4 by FFT and which lasts the bar', async () => {
    const { samples, sampleRate } = await renderPerformance(performSong(ONE_BAR), { sampleRate: 22_050 });
    const start = firstSound(samples);
    expect(start / sampleRate).toBeLessThan(0.02);
    // The first note sounds from 0 s to 1 s: analyse 0.1–0.9 s, away from attack and the next note.
    const f1 = dominantFrequency(samples, sampleRate, Math.round(0.1 * sampleRate), Math.round(0.8 * sampleRate));
    expect(f1).toBeGreaterThan(436);
    expect(f1).toBeLessThan(444);
    const f2 = dominantFrequency(samples, sampleRate, Math.round(1.1 * sampleRate), Math.round(0.8 * sampleRate));
    expect(f2).toBeGreaterThan(518);
    expect(f2).toBeLessThan(528);
    // Sound lasts the bar (2 s) plus at most the release.
    const end = lastSound(samples) / sampleRate;
    expect(end).toBeGreaterThan(1.95);
    expect(end).toBeLessThanOrEqual(2 + RELEASE_SECONDS + 0.05);
  });

  it('writes .abc, .mid and .wav that read back as the same tune', async () => {
    const files = await writeSongFiles(ONE_BAR, path.join(dir, 'one-bar'), 16_000);
    expect(readFileSync(files.abc, 'utf8')).toBe(ONE_BAR);
    const notes = readMidiNotes(readFileSync(files.mid));
    expect(notes.map((n) => n.midi)).toEqual([69, 72]);
    expect(notes[1].time).toBeCloseTo(1, 2);
    const wav = decodeWav(readFileSync(files.wav));
    expect(wav.sampleRate).toBe(16_000);
    expect(wav.samples.length / wav.sampleRate).toBeCloseTo(files.seconds, 6);
    const f1 = dominantFrequency(wav.samples, wav.sampleRate, 1600, 12_800);
    expect(Math.abs(f1 - 440)).toBeLessThan(4);
  });

  it('writes nothing for a song it cannot play', async () => {
    await expect(writeSongFiles('X:1\nT:x\nM:4/4\nL:1/4\nK:C\n', path.join(dir, 'silent'))).rejects.toThrow(/no notes/);
    expect(() => readFileSync(path.join(dir, 'silent.abc'))).toThrow();
  });
});
