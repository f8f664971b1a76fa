import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Builds a runs folder like the CLI writes (run.json, log.jsonl, outputs/) in os.tmpdir(), so the
 * studio's tests do not depend on the labs being trained. Used by this package's tests and by the
 * browser tests in tests/studio.
 */

export const VALID_SONG = `X:1
T:Studio Test Reel
M:4/4
L:1/8
Q:1/4=140
K:D
|:d2fd Adfd|c2ec Aceg|fagf edcB|A2F2 D4:|
`;

export const BROKEN_SONG = `X:2
T:Broken Output
M:4/4
L:1/8
K:D
|:d2fd A|||[[ ]]((zz#@ 7/0/ :|
`;

function runJson(lab: string, name: string, command: string, status: string, config: Record<string, unknown>) {
  return `${JSON.stringify(
    {
      lab,
      name,
      command,
      config,
      seed: 1,
      backend: 'wasm',
      device: 'test',
      versions: { node: process.versions.node },
      status,
      start: new Date(Date.UTC(2026, 0, 1, 12, 0, name.length)).toISOString(),
    },
    null,
    2,
  )}\n`;
}

/** Writes one run folder; returns its path. */
export function writeRun(
  root: string,
  lab: string,
  name: string,
  options: {
    command?: string;
    status?: string;
    config?: Record<string, unknown>;
    steps?: number;
    outputs?: Record<string, string>;
  } = {},
): string {
  const dir = path.join(root, lab, name);
  mkdirSync(path.join(dir, 'outputs'), { recursive: true });
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(
    path.join(dir, 'run.json'),
    runJson(
      lab,
      name,
      options.command ?? `${lab} train`,
      options.status ?? 'completed',
      options.config ?? { steps: options.steps ?? 0 },
    ),
  );
  for (let step = 1; step <= (options.steps ?? 0); step++) appendLogStep(dir, step);
  for (const [rel, text] of Object.entries(options.outputs ?? {})) {
    mkdirSync(path.dirname(path.join(dir, 'outputs', rel)), { recursive: true });
    writeFileSync(path.join(dir, 'outputs', rel), text);
  }
  return dir;
}

/** Appends step `step` to a run's log.jsonl, with a loss that falls like a real one. */
export function appendLogStep(runDir: string, step: number): void {
  const loss = 4.4 * Math.exp(-step / 30) + 0.8;
  appendFileSync(
    path.join(runDir, 'log.jsonl'),
    `${JSON.stringify({ step, loss: Number(loss.toFixed(5)), metrics: { valLoss: Number((loss + 0.1).toFixed(5)) }, lr: 0.005, elapsed: step * 0.1 })}\n`,
  );
}

/** A runs folder with one run of each lab, plus a Lab 1 run still training. */
export function makeRunsFolder(): { root: string; liveRun: string } {
  const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'introdl-studio-')), 'runs');
  writeRun(root, 'lab1-music', 'quick', {
    command: 'lab1 train',
    steps: 40,
    config: { preset: 'quick', steps: 40, batchSize: 8, seqLength: 100 },
    outputs: {
      // As `introdl lab1 generate` writes them: valid songs as files, every song in songs.json.
      'songs/song-01.abc': VALID_SONG,
      'songs/song-01.mid': 'MThd (a stand-in for the MIDI file)',
      'songs.json': JSON.stringify({
        songs: [
          {
            index: 1,
            valid: true,
            reason: 'parses and renders',
            title: 'Studio Test Reel',
            notes: 25,
            files: {
              abc: 'outputs/songs/song-01.abc',
              mid: 'outputs/songs/song-01.mid',
              wav: 'outputs/songs/song-01.wav',
            },
          },
          { index: 2, valid: false, reason: 'no K: line', title: 'song 2', notes: 0 },
        ],
        valid: 1,
        total: 2,
        percent: 50,
      }),
      // An ABC file no report lists: the studio checks it itself.
      'hand-written.abc': BROKEN_SONG,
    },
  });
  const liveRun = writeRun(root, 'lab1-music', 'live', {
    command: 'lab1 train',
    status: 'running',
    steps: 0,
    config: { preset: 'quick' },
  });
  writeRun(root, 'lab2-vision', 'faces', {
    command: 'lab2 train-faces',
    steps: 10,
    outputs: {
      'bias-report.json': JSON.stringify({
        title: 'P(face) on the test faces',
        metric: 'mean P(face)',
        rows: ['LF', 'LM', 'DF', 'DM'].flatMap((group, i) => [
          { model: 'CNN', group, mean: 0.6 + i * 0.08, low: 0.5 + i * 0.08, high: 0.7 + i * 0.08, n: 5 },
          { model: 'DB-VAE', group, mean: 0.75 + i * 0.03, low: 0.65 + i * 0.03, high: 0.85 + i * 0.03, n: 5 },
        ]),
      }),
    },
  });
  writeRun(root, 'lab3-llm', 'yoda', {
    command: 'lab3 train',
    steps: 5,
    outputs: {
      'judge-scores.json': JSON.stringify({
        title: 'Judge scores',
        metric: 'StyleScore',
        sets: { base: [0, 0, 0.1, 0, 0.2], generated: [0.2, 0.4, 0.3, 0.6, 0.1], style: [0.5, 0.7, 0.4, 0.9, 0.6] },
      }),
    },
  });
  return { root, liveRun };
}
