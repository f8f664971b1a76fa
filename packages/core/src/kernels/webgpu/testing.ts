import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../rng.js';

/**
 * Helpers for the WebGPU kernel tests: run a function and its gradients on one backend and compare
 * with a reference run on another (the cpu backend's stock kernels, or our CPU fused ops).
 */

/** One input of a checked function: values and shape. */
export interface Input {
  values: Float32Array;
  shape: number[];
}

/** A random normal input of `shape`, scaled. */
export function randomInput(shape: number[], rng: Rng, scale = 1): Input {
  const n = shape.reduce((a, b) => a * b, 1);
  return { values: Float32Array.from({ length: n }, () => rng.normal() * scale), shape };
}

/**
 * Runs `fn` on the active backend and returns its outputs' values, then the gradient of
 * Σ_k ⟨out_k, r_k⟩ (fixed random r_k from `seed`) with respect to every input, in order.
 */
export async function outputsAndGradients(
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  inputs: Input[],
  seed = 7,
): Promise<Float32Array[]> {
  // webgpu cannot read synchronously in Node (tfjs' dataSync needs OffscreenCanvas): keep, then await.
  const results = tf.tidy(() => {
    const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
    let outputs: tf.Tensor[] = [];
    const g = tf.grads((...args: tf.Tensor[]) => {
      const out = fn(...args);
      const list = Array.isArray(out) ? out : [out];
      outputs = list.map((t) => tf.keep(t.clone()));
      const rng = new Rng(seed);
      const terms = list.map((t) => tf.sum(tf.mul(t, tf.tensor(randomInput(t.shape, rng).values, t.shape))));
      return tf.addN(terms) as tf.Scalar;
    });
    return [...outputs, ...g(xs)];
  });
  const values = await Promise.all(results.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(results);
  return values;
}

/** max |a − b| / max |b|: the normwise relative error. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** The worst relative error over pairs of results, with the index of the worst. */
export function worstError(got: Float32Array[], want: Float32Array[]): { error: number; index: number } {
  let error = 0;
  let index = -1;
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const e = got[i] && want[i] ? relativeError(got[i], want[i]) : Number.POSITIVE_INFINITY;
    if (e > error || index < 0) {
      error = Math.max(error, e);
      index = e >= error ? i : index;
    }
  }
  return { error, index };
}
