import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MiniBatches, subset, trainValidationSplit } from './batches.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 10 examples of 2 features: example i is [i, 100 + i] with label i. */
function dataset(batchSize: number, seed = 1) {
  const x = new Float32Array(20);
  for (let i = 0; i < 10; i++) x.set([i, 100 + i], i * 2);
  return new MiniBatches(
    x,
    Int32Array.from({ length: 10 }, (_, i) => i),
    [2],
    batchSize,
    seed,
  );
}

describe('MiniBatches', () => {
  it('visits every example once per epoch, in a shuffled order, with features and labels kept together', () => {
    const data = dataset(5);
    expect(data.stepsPerEpoch).toBe(2);
    const seen: number[] = [];
    for (const step of [1, 2]) {
      const { x, y } = data.batch(step);
      expect(x.shape).toEqual([5, 2]);
      const xs = x.arraySync() as number[][];
      const ys = Array.from(y.dataSync());
      for (const [k, row] of xs.entries()) expect(row).toEqual([ys[k], 100 + ys[k]]);
      seen.push(...ys);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('reshuffles each epoch, reproducibly from the seed, and the batch of a step is always the same', () => {
    const a = dataset(5, 7);
    const b = dataset(5, 7);
    const epoch1 = Array.from(a.batch(1).y.dataSync());
    const epoch2 = Array.from(a.batch(3).y.dataSync());
    expect(epoch2).not.toEqual(epoch1);
    expect(Array.from(b.batch(3).y.dataSync())).toEqual(epoch2); // a fresh object jumps straight to step 3
    expect(Array.from(a.batch(1).y.dataSync())).toEqual(epoch1); // and going back gives the same batch
    expect(Array.from(dataset(5, 8).batch(1).y.dataSync())).not.toEqual(epoch1);
  });

  it('drops the last partial batch and iterates sequentially for evaluation', () => {
    const data = dataset(4);
    expect(data.stepsPerEpoch).toBe(2);
    const counts = [...data.sequential(4)].map((b) => b.count);
    expect(counts).toEqual([4, 4, 2]);
  });

  it('rejects features that do not match the labels', () => {
    expect(() => new MiniBatches(new Float32Array(7), new Int32Array(3), [2], 2)).toThrow(/expected shape/);
  });
});

describe('trainValidationSplit', () => {
  it('splits disjointly, covers everything, and is seeded', () => {
    const { train, validation } = trainValidationSplit(100, 0.2, 3);
    expect(validation).toHaveLength(20);
    expect(train).toHaveLength(80);
    expect(new Set([...train, ...validation]).size).toBe(100);
    expect(Array.from(trainValidationSplit(100, 0.2, 3).validation)).toEqual(Array.from(validation));
    expect(Array.from(trainValidationSplit(100, 0.2, 4).validation)).not.toEqual(Array.from(validation));
  });

  it('selects rows with subset', () => {
    const values = Float32Array.from([0, 1, 10, 11, 20, 21]);
    expect(Array.from(subset(values, 2, Int32Array.from([2, 0])))).toEqual([20, 21, 0, 1]);
  });
});
