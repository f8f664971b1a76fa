import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BadShapeError } from '../errors.js';
import { Rng } from '../rng.js';
import { useBackend } from '../runtime/backends.js';
import { Embedding } from './embedding.js';

beforeAll(async () => {
  await useBackend('wasm');
  await tf.setBackend('cpu');
});

afterEach(async () => {
  await tf.setBackend('cpu');
});

describe('Embedding', () => {
  it('looks up rows: [B, T] ids give [B, T, E], row ids[b, t] of the table', () => {
    const emb = new Embedding({ inputDim: 5, outputDim: 3, rng: new Rng(1) });
    const table = emb.embeddings.arraySync() as number[][];
    const ids = tf.tensor2d(
      [
        [0, 4, 2],
        [3, 3, 1],
      ],
      [2, 3],
      'int32',
    );
    const out = emb.apply(ids);
    expect(out.shape).toEqual([2, 3, 3]);
    const rows = out.arraySync() as number[][][];
    expect(rows[0][1]).toEqual(table[4]);
    expect(rows[1][0]).toEqual(table[3]);
    expect(emb.outputShape([null, 100])).toEqual([null, 100, 3]);
    expect([...emb.variables().keys()]).toEqual(['embeddings']);
    expect(emb.countParams()).toBe(15);
  });

  it('starts from uniform(−0.05, 0.05), the same for the same seed', () => {
    const a = new Embedding({ inputDim: 83, outputDim: 256, rng: new Rng(7) }).embeddings.dataSync();
    const b = new Embedding({ inputDim: 83, outputDim: 256, rng: new Rng(7) }).embeddings.dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Math.max(...a)).toBeLessThanOrEqual(0.05);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-0.05);
    expect(Math.max(...a)).toBeGreaterThan(0.049);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.002);
  });

  it('equals tf.layers.embedding given the same table', () => {
    const emb = new Embedding({ inputDim: 7, outputDim: 4, rng: new Rng(2) });
    const layer = tf.layers.embedding({ inputDim: 7, outputDim: 4 });
    const ids = tf.tensor2d([[1, 6, 0, 2]], [1, 4], 'int32');
    layer.apply(ids);
    layer.setWeights([emb.embeddings]);
    expect(Array.from(emb.apply(ids).dataSync())).toEqual(Array.from((layer.apply(ids) as tf.Tensor).dataSync()));
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`its gradient sums the output gradients per id (${backend})`, async () => {
      await tf.setBackend(backend);
      const emb = new Embedding({ inputDim: 4, outputDim: 2, rng: new Rng(3) });
      const ids = tf.tensor2d([[1, 1, 3]], [1, 3], 'int32');
      const weights = tf.tensor3d([
        [
          [1, 2],
          [10, 20],
          [100, 200],
        ],
      ]);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(emb.apply(ids), weights)) as tf.Scalar, [emb.embeddings]);
      expect(Array.from(grads[emb.embeddings.name].dataSync())).toEqual([0, 0, 11, 22, 0, 0, 100, 200]);
    });
  }

  it('rejects ids outside the vocabulary with a clear error, and scalar ids', () => {
    const emb = new Embedding({ inputDim: 3, outputDim: 2 });
    expect(() => emb.apply(tf.tensor2d([[0, 3]], [1, 2], 'int32'))).toThrow(
      /embedding: id 3 at position 1 is outside the vocabulary \[0, 2\]/,
    );
    expect(() => emb.apply(tf.tensor2d([[-1]], [1, 1], 'int32'))).toThrow(/outside the vocabulary/);
    expect(() => emb.apply(tf.scalar(1, 'int32'))).toThrow(BadShapeError);
    expect(() => new Embedding({ inputDim: 0, outputDim: 2 })).toThrow(/inputDim must be a positive integer/);
  });

  it('casts float ids to int32', () => {
    const emb = new Embedding({ inputDim: 3, outputDim: 2, rng: new Rng(4) });
    const a = emb.apply(tf.tensor1d([2, 0]));
    const b = emb.apply(tf.tensor1d([2, 0], 'int32'));
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
  });
});
