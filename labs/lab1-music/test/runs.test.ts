import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BadFileError, BadFlagError, loadCheckpoint, readLog, saveCheckpoint, tf, useBackend } from '@introdl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvaluate } from '../src/actions/evaluate-run.js';
import { runGenerate } from '../src/actions/generate-run.js';
import { runIntro } from '../src/actions/intro-run.js';
import { loadMusicModel } from '../src/model/checkpoint.js';
import { resolvePreset } from '../src/train/presets.js';
import { trainMusicModel } from '../src/train/train.js';
import { makeCorpus, TUNE_A } from './fixtures.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lab1-runs-'));
const corpusFile = path.join(dir, 'tunes.abc');
const quiet = () => {};
/** A model small enough to train in a test. */
const tiny = {
  steps: 4,
  batchSize: 4,
  seqLength: 20,
  learningRate: 1e-2,
  embeddingDim: 8,
  units: 16,
  checkpointEvery: 2,
  validateEvery: 2,
};

beforeAll(async () => {
  await useBackend('wasm');
  writeFileSync(corpusFile, makeCorpus(30));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const train = (out: string, extra: Record<string, unknown> = {}) =>
  trainMusicModel({
    preset: 'custom',
    overrides: tiny,
    seed: 1,
    out,
    dataPath: corpusFile,
    progress: 'silent',
    log: quiet,
    ...extra,
  });

describe('presets', () => {
  it('course is the course run; only custom takes overrides', () => {
    expect(resolvePreset('course')).toMatchObject({
      steps: 3000,
      batchSize: 8,
      seqLength: 100,
      learningRate: 5e-3,
      embeddingDim: 256,
      units: 1024,
      checkpointEvery: 100,
    });
    expect(resolvePreset('custom', { steps: 7 }).steps).toBe(7);
    expect(() => resolvePreset('quick', { steps: 7 })).toThrow(/use --preset custom to set --steps/);
    expect(() => resolvePreset('custom', { units: 0 })).toThrow(BadFlagError);
    expect(() => resolvePreset('fast')).toThrow(/unknown preset "fast"/);
  });
});

describe('train → checkpoint → resume → generate → evaluate', () => {
  const runDir = path.join(dir, 'run');
  let first: Awaited<ReturnType<typeof train>>;

  beforeAll(async () => {
    first = await train(runDir);
  });

  it('writes run.json, a JSONL log with held-out losses, checkpoints and a loss plot', () => {
    expect(first.step).toBe(4);
    expect(Number.isFinite(first.heldOutLoss)).toBe(true);
    const info = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    expect(info).toMatchObject({
      lab: 'lab1-music',
      status: 'completed',
      command: 'introdl lab1 train --preset custom',
    });
    expect(info.config).toMatchObject({ lab: 'lab1-music', preset: 'custom', seqLength: 20, heldOutFraction: 0.1 });
    const log = readLog(path.join(runDir, 'log.jsonl'));
    expect(log.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(log.filter((e) => typeof e.val_loss === 'number').map((e) => e.step)).toEqual([2, 4]);
    expect(readdirSync(path.join(runDir, 'checkpoints')).sort()).toEqual(['2', '4']);
    expect(existsSync(path.join(runDir, 'outputs', 'loss.png'))).toBe(true);
  });

  it('resumes from a checkpoint to exactly the weights of the uninterrupted run', async () => {
    const resumedDir = path.join(dir, 'resumed');
    mkdirSync(path.join(resumedDir, 'checkpoints'), { recursive: true });
    // A copy of the run as it was after step 2.
    for (const f of ['run.json', 'log.jsonl'])
      writeFileSync(path.join(resumedDir, f), readFileSync(path.join(runDir, f)));
    const two = path.join(resumedDir, 'checkpoints', '2');
    mkdirSync(two);
    for (const f of readdirSync(path.join(runDir, 'checkpoints', '2'))) {
      writeFileSync(path.join(two, f), readFileSync(path.join(runDir, 'checkpoints', '2', f)));
    }
    const again = await trainMusicModel({
      preset: 'custom',
      seed: 1,
      resume: resumedDir,
      dataPath: corpusFile,
      progress: 'silent',
      log: quiet,
    });
    expect(again.step).toBe(4);
    const a = loadCheckpoint(path.join(runDir, 'checkpoints', '4')).weights;
    const b = loadCheckpoint(path.join(resumedDir, 'checkpoints', '4')).weights;
    for (const [name, t] of a) {
      const diff = tf.max(tf.abs(tf.sub(t, b.get(name)!))).dataSync()[0];
      expect(diff, name).toBeLessThan(1e-6);
    }
    expect(readLog(path.join(resumedDir, 'log.jsonl')).map((e) => e.step)).toEqual([1, 2, 3, 4]);
  });

  it('refuses training flags with --resume', async () => {
    await expect(
      trainMusicModel({
        preset: 'custom',
        overrides: { steps: 9 },
        seed: 1,
        resume: runDir,
        dataPath: corpusFile,
        progress: 'silent',
        log: quiet,
      }),
    ).rejects.toThrow(/--resume continues a run with its own hyper-parameters/);
  });

  it('restores the trained model from the run folder', () => {
    const loaded = loadMusicModel(runDir);
    expect(loaded.step).toBe(4);
    expect(loaded.config.model).toEqual({ vocabSize: loaded.vocab.size, embeddingDim: 8, units: 16 });
    loaded.model.dispose();
  });

  it('generate writes the text and a report; valid songs get .abc, .mid and .wav', async () => {
    const out = path.join(dir, 'gen');
    const streamed: string[] = [];
    const result = await runGenerate({
      checkpoint: runDir,
      length: 200,
      seed: 1,
      out,
      stream: (s) => streamed.push(s),
      log: quiet,
      sampleRate: 8000,
    });
    expect(streamed.join('')).toBe(`${result.text}\n`);
    expect(readFileSync(path.join(out, 'outputs', 'generated.txt'), 'utf8')).toBe(result.text);
    const report = JSON.parse(readFileSync(path.join(out, 'outputs', 'songs.json'), 'utf8'));
    expect(report.total).toBe(result.songs.length);
    for (const s of result.songs.filter((x) => x.valid)) {
      for (const f of Object.values(s.files!)) expect(existsSync(path.join(out, f))).toBe(true);
    }
    expect(result.charsPerSecond).toBeGreaterThan(0);
  });

  it('evaluate reports held-out loss, valid share over N samples and speed, reproducibly', async () => {
    const opts = { checkpoint: runDir, samples: 3, sampleLength: 60, seed: 7, dataPath: corpusFile, log: quiet };
    const a = await runEvaluate({ ...opts, out: path.join(dir, 'eval-a') });
    const b = await runEvaluate({ ...opts, out: path.join(dir, 'eval-b') });
    expect(a.total).toBe(3);
    const loaded = loadMusicModel(runDir);
    const vocabSize = loaded.vocab.size;
    loaded.model.dispose();
    // Barely trained: about as surprised as a uniform guess over the vocabulary, ln V.
    expect(a.heldOutLoss).toBeGreaterThan(0);
    expect(a.heldOutLoss).toBeLessThan(Math.log(vocabSize) + 0.1);
    expect(b.heldOutLoss).toBeCloseTo(a.heldOutLoss, 6);
    expect(b.songs.map((s) => s.reason)).toEqual(a.songs.map((s) => s.reason));
    expect(
      JSON.parse(readFileSync(path.join(dir, 'eval-a', 'outputs', 'evaluation.json'), 'utf8')).heldOutLoss,
    ).toBeCloseTo(a.heldOutLoss, 9);
  });
});

describe('bad input: clear errors, nothing half-written', () => {
  const runDir = path.join(dir, 'bad-run');
  beforeAll(async () => {
    await train(runDir, { overrides: { ...tiny, steps: 2 } });
  });

  it('a start string outside the vocabulary fails before any run folder is made', async () => {
    const out = path.join(dir, 'gen-bad-start');
    await expect(runGenerate({ checkpoint: runDir, start: 'X:1\nT:Ölmö', seed: 1, out, log: quiet })).rejects.toThrow(
      BadFlagError,
    );
    await expect(runGenerate({ checkpoint: runDir, start: 'X:1\nT:Ölmö', seed: 1, out, log: quiet })).rejects.toThrow(
      /"Ö", "ö" are not in the model's/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a checkpoint of another lab is named as such', async () => {
    const other = path.join(dir, 'other-lab');
    await saveCheckpoint(path.join(other, 'checkpoints'), {
      step: 1,
      weights: new Map([['w', tf.zeros([2])]]),
      config: { lab: 'lab2-vision' },
    });
    expect(() => loadMusicModel(other)).toThrow(BadFileError);
    expect(() => loadMusicModel(other)).toThrow(
      /is not a Lab 1 music model checkpoint \(its config says lab "lab2-vision"\)/,
    );
    await expect(
      runGenerate({ checkpoint: other, seed: 1, out: path.join(dir, 'gen-other'), log: quiet }),
    ).rejects.toThrow(/not a Lab 1 music model/);
    expect(existsSync(path.join(dir, 'gen-other'))).toBe(false);
  });

  it('a checkpoint whose weights do not fit its model sizes is another model', async () => {
    const wrong = path.join(dir, 'wrong-size');
    const data = loadCheckpoint(runDir);
    const config = { ...data.config, model: { ...(data.config!.model as object), units: 32 } };
    await saveCheckpoint(path.join(wrong, 'checkpoints'), { step: 2, weights: data.weights, config });
    expect(() => loadMusicModel(wrong)).toThrow(
      /weights\.safetensors: is from another model: "lstm\/kernel" has shape \[8,64\], this model expects \[8,128\]/,
    );
  });

  it('evaluating on a corpus with another vocabulary fails before writing', async () => {
    const otherCorpus = path.join(dir, 'other.abc');
    writeFileSync(otherCorpus, `${TUNE_A.replace('Alpha', 'Zebra Quartz')}\n\n`.repeat(20));
    const out = path.join(dir, 'eval-other');
    await expect(runEvaluate({ checkpoint: runDir, seed: 1, dataPath: otherCorpus, out, log: quiet })).rejects.toThrow(
      /trained on another vocabulary/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('training on a file with no songs or binary garbage fails before any run folder is made', async () => {
    const empty = path.join(dir, 'empty.abc');
    writeFileSync(empty, 'X:1\nT:no blank line after me\nK:C\nABC');
    const out = path.join(dir, 'train-empty');
    await expect(train(out, { dataPath: empty })).rejects.toThrow(/empty\.abc: holds no songs/);
    const garbage = path.join(dir, 'garbage.bin');
    writeFileSync(garbage, Buffer.from([0, 1, 2, 255, 10, 10, 0]));
    await expect(train(out, { dataPath: garbage })).rejects.toThrow(/garbage\.bin: is a binary file/);
    expect(existsSync(out)).toBe(false);
  });

  it('a missing or empty checkpoint path says what to pass', () => {
    expect(() => loadMusicModel(path.join(dir, 'nope'))).toThrow(/no such file or folder\. Pass a run folder/);
    mkdirSync(path.join(dir, 'empty-run'));
    expect(() => loadMusicModel(path.join(dir, 'empty-run'))).toThrow(/holds no checkpoint/);
  });
});

describe('Part 1 run', () => {
  it('prints each exercise in order and plots gradient descent', async () => {
    const r = await runIntro({ seed: 1, out: path.join(dir, 'intro') });
    expect(r.lines[0]).toBe('1.1 Tensors');
    expect(r.lines.join('\n')).toContain('func(1.5, 2.5) = 6');
    expect(r.lines.join('\n')).toContain('d(x²)/dx at x = 3 is 6');
    expect(Math.abs(r.finalX - 4)).toBeLessThan(1e-3);
    expect(existsSync(r.plot)).toBe(true);
  });
});
