import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { numericalGradient } from '../foundations/gradient-descent.js';
import { MEAN_GRADIENT, registerGradientFixes } from './gradient-fixes.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradientFixes();
});

describe('the Mean gradient fix', () => {
  it('is the registered gradient of Mean', () => {
    expect(tf.getGradient('Mean')).toBe(MEAN_GRADIENT);
  });

  const x = tf.tensor(
    Array.from({ length: 24 }, (_, i) => Math.sin(i)),
    [2, 3, 4],
  );
  const w = tf.tensor(
    Array.from({ length: 24 }, (_, i) => Math.cos(3 * i)),
    [2, 3, 4],
  );

  for (const axis of [undefined, 0, [0, 2], -1, [0, 1, 2]] as (number | number[] | undefined)[]) {
    it(`matches finite differences for axis ${JSON.stringify(axis)}`, () => {
      const f = (t: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.mean(tf.mul(t, w), axis, false),
            tf.range(1, 1 + tf.mean(t, axis).size).reshape(tf.mean(t, axis).shape),
          ),
        ) as tf.Scalar;
      const auto = tf.grad(f)(x).dataSync();
      const numeric = numericalGradient(f, x, 1e-2).dataSync();
      for (let i = 0; i < auto.length; i++) expect(Math.abs(auto[i] - numeric[i])).toBeLessThan(2e-3);
    });
  }

  it('keeps keepDims shapes working', () => {
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mean(t, [1], true)) as tf.Scalar)(x);
    expect(g.shape).toEqual([2, 3, 4]);
    expect(Array.from(g.dataSync()).every((v) => Math.abs(v - 1 / 3) < 1e-7)).toBe(true);
  });
});
