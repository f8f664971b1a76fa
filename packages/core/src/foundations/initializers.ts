import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.js';

/**
 * Weight initialisers drawn from our seeded {@link Rng} in JavaScript, so the same seed gives the
 * same starting weights on every backend (tfjs' own random ops differ between backends).
 */

/** Glorot (Xavier) uniform: U(−l, l) with l = √(6 / (fanIn + fanOut)), Keras' default for Dense. */
export function glorotUniform(
  shape: number[],
  rng: Rng,
  fanIn = shape[0],
  fanOut = shape[shape.length - 1],
): tf.Tensor {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = (rng.next() * 2 - 1) * limit;
  return tf.tensor(values, shape);
}

/** Standard normal N(0, 1) scaled by `std`, as PyTorch's `randn` in the course's dense layer. */
export function randomNormal(shape: number[], rng: Rng, std = 1): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = rng.normal() * std;
  return tf.tensor(values, shape);
}
