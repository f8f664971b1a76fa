import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir, useTrainingBackend, writeDigitFixture } from '../../test/fixtures.js';
import { loadModel } from '../model-store.js';
import { predict } from '../predict.js';
import { loadDigits } from './data.js';
import { countCorrect, evaluateDigits } from './evaluate.js';
import { evaluateDigitCheckpoint } from './evaluate-checkpoint.js';
import { buildCnnModel, buildFcModel, countParameters } from './models.js';
import { trainDigits } from './train.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Part 1 models', () => {
  it('the FC model is 784→128→10 (101,770 parameters) and outputs logits', () => {
    const m = buildFcModel(1);
    expect(countParameters(m)).toBe(101_770);
    expect((m.predict(tf.zeros([3, 28, 28, 1])) as tf.Tensor).shape).toEqual([3, 10]);
  });

  it('the CNN has the course parameter count, 124,670', () => {
    const m = buildCnnModel(1);
    expect(countParameters(m)).toBe(124_670);
    expect(m.layers.map((l) => l.outputShape)).toContainEqual([null, 900]);
  });

  it('the same seed gives the same initial weights', () => {
    const a = buildFcModel(7).getWeights()[0].dataSync();
    const b = buildFcModel(7).getWeights()[0].dataSync();
    const c = buildFcModel(8).getWeights()[0].dataSync();
    expect(Array.from(a.slice(0, 20))).toEqual(Array.from(b.slice(0, 20)));
    expect(Array.from(a.slice(0, 20))).not.toEqual(Array.from(c.slice(0, 20)));
  });

  it('countCorrect counts argmax hits', () => {
    const logits = tf.tensor2d([
      [0, 5, 1],
      [3, 0, 0],
      [0, 0, 9],
    ]);
    expect(countCorrect(logits, tf.tensor1d([1, 0, 1], 'int32'))).toBe(2);
  });
});

describe('Part 1 training, evaluation and prediction on a small IDX set', () => {
  const dataDir = writeDigitFixture(path.join(tempDir(), 'idx'));
  const runs = tempDir();

  it('reads the IDX files from --data', async () => {
    const d = await loadDigits({ split: 'test', dir: dataDir });
    expect([d.n, d.height, d.width]).toEqual([50, 28, 28]);
    expect(d.classes[0]).toBe('T-shirt/top');
  });

  it('says which file is wrong when --data lacks the files', async () => {
    await expect(loadDigits({ split: 'test', dir: tempDir() })).rejects.toThrow(/t10k-images-idx3-ubyte/);
  });

  it('trains the FC model to high accuracy, writes the run folder, and the checkpoint predicts the same', async () => {
    const out = path.join(runs, 'fc');
    const r = await trainDigits({
      model: 'fc',
      dataDir,
      epochs: 5,
      batchSize: 20,
      seed: 1,
      out,
      progress: 'silent',
      log: () => {},
    });
    expect(r.testAccuracy).toBeGreaterThan(0.9);
    expect(r.parameters).toBe(101_770);
    for (const f of ['run.json', 'log.jsonl', 'outputs/predictions.png', 'outputs/metrics.json', 'outputs/loss.png'])
      expect(existsSync(path.join(out, f))).toBe(true);
    const png = readFileSync(path.join(out, 'outputs/predictions.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const run = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(run.status).toBe('completed');
    expect(run.summary.testAccuracy).toBeCloseTo(r.testAccuracy, 10);

    const loaded = loadModel(out);
    expect(loaded.kind).toBe('fc');
    const test = await loadDigits({ split: 'test', dir: dataDir });
    expect(evaluateDigits(loaded.layers!, test).accuracy).toBeCloseTo(r.testAccuracy, 10);
    loaded.dispose();

    const ev = await evaluateDigitCheckpoint({ checkpoint: out, dataDir, seed: 1, out: path.join(runs, 'fc-eval') });
    expect(ev.accuracy).toBeCloseTo(r.testAccuracy, 10);

    const p = await predict({ checkpoint: out, images: [], indices: [0, 3], dataDir });
    expect(p.predictions.length).toBe(2);
    expect(p.predictions[0]).toMatchObject({ image: 'test[0]', truth: 'T-shirt/top' });
  });

  it('is reproducible: the same seed gives the same test accuracy and loss', async () => {
    const a = await trainDigits({
      model: 'fc',
      dataDir,
      epochs: 1,
      batchSize: 20,
      seed: 3,
      out: path.join(runs, 'a'),
      progress: 'silent',
      log: () => {},
    });
    const b = await trainDigits({
      model: 'fc',
      dataDir,
      epochs: 1,
      batchSize: 20,
      seed: 3,
      out: path.join(runs, 'b'),
      progress: 'silent',
      log: () => {},
    });
    expect(a.testLoss).toBe(b.testLoss);
  });

  it('trains the CNN (a few steps) and restores it from its checkpoint', async () => {
    // The cpu backend's convolution gradients are slow, so this stays tiny there.
    const backend = await useTrainingBackend();
    const out = path.join(runs, 'cnn');
    const big = backend === 'wasm';
    const r = await trainDigits({
      model: 'cnn',
      dataDir,
      epochs: big ? 4 : 1,
      batchSize: big ? 20 : 4,
      trainLimit: big ? 200 : 8,
      testLimit: 20,
      seed: 1,
      out,
      progress: 'silent',
      log: () => {},
    });
    expect(r.parameters).toBe(124_670);
    expect(r.steps).toBe(big ? 40 : 2);
    if (big) expect(r.testAccuracy).toBeGreaterThan(0.8);
    const loaded = loadModel(out);
    const test = await loadDigits({ split: 'test', dir: dataDir, limit: 20 });
    expect(evaluateDigits(loaded.layers!, test).loss).toBeCloseTo(r.testLoss, 5);
    loaded.dispose();
    await tf.setBackend('cpu');
  });

  it('refuses a checkpoint of another kind with a clear message', () => {
    expect(() => loadModel(path.join(runs, 'missing'))).toThrow(/no such file/);
    expect(() => loadModel(runs)).toThrow(BadFileError);
  });
});
