import * as tf from '@tensorflow/tfjs';
import { BadShapeError } from '../errors.js';
import { Rng } from '../rng.js';

/**
 * Mini-batches over an in-memory data set: each epoch visits every example once in an order
 * shuffled from (seed, epoch). The batch for a step is a pure function of the step, so a resumed
 * run sees exactly the batches the uninterrupted run would have seen.
 */
export class MiniBatches {
  readonly stepsPerEpoch: number;
  private order: Int32Array | null = null;
  private orderEpoch = -1;

  /**
   * @param x examples, flattened: `n * featureSize` values
   * @param y labels, one per example
   * @param featureShape the shape of one example (e.g. [28, 28] or [784])
   */
  constructor(
    readonly x: Float32Array,
    readonly y: Int32Array | Float32Array,
    readonly featureShape: number[],
    readonly batchSize: number,
    readonly seed = 0,
  ) {
    const featureSize = featureShape.reduce((a, b) => a * b, 1);
    if (x.length !== y.length * featureSize)
      throw new BadShapeError('MiniBatches x', [y.length, ...featureShape], [x.length / featureSize, ...featureShape]);
    if (batchSize < 1) throw new Error('batch size must be at least 1');
    // The last partial batch is dropped so every step has the same shape (as drop_last=True).
    this.stepsPerEpoch = Math.max(1, Math.floor(y.length / batchSize));
  }

  get size(): number {
    return this.y.length;
  }

  /** The shuffled order of one epoch. */
  epochOrder(epoch: number): Int32Array {
    if (this.orderEpoch !== epoch || !this.order) {
      this.order = new Rng(this.seed * 1_000_003 + epoch).permutation(this.y.length);
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  /** The batch for a 1-based global step. */
  batch(step: number): { x: tf.Tensor; y: tf.Tensor } {
    const epoch = Math.floor((step - 1) / this.stepsPerEpoch);
    const first = ((step - 1) % this.stepsPerEpoch) * this.batchSize;
    const idx = this.epochOrder(epoch).subarray(first, first + this.batchSize);
    return gather(this.x, this.y, this.featureShape, idx);
  }

  /** Every example in order, in batches (for evaluation). */
  *sequential(batchSize = this.batchSize): Generator<{ x: tf.Tensor; y: tf.Tensor; count: number }> {
    for (let start = 0; start < this.size; start += batchSize) {
      const idx = Int32Array.from({ length: Math.min(batchSize, this.size - start) }, (_, i) => start + i);
      yield { ...gather(this.x, this.y, this.featureShape, idx), count: idx.length };
    }
  }
}

function gather(
  x: Float32Array,
  y: Int32Array | Float32Array,
  featureShape: number[],
  idx: Int32Array,
): { x: tf.Tensor; y: tf.Tensor } {
  const f = featureShape.reduce((a, b) => a * b, 1);
  const xb = new Float32Array(idx.length * f);
  const yb = y instanceof Int32Array ? new Int32Array(idx.length) : new Float32Array(idx.length);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    xb.set(x.subarray(i * f, (i + 1) * f), k * f);
    yb[k] = y[i];
  }
  return {
    x: tf.tensor(xb, [idx.length, ...featureShape]),
    y: tf.tensor(yb, [idx.length], y instanceof Int32Array ? 'int32' : 'float32'),
  };
}

/** A split of example indices into training and validation parts, shuffled by `seed`. */
export function trainValidationSplit(
  n: number,
  validationFraction: number,
  seed = 0,
): { train: Int32Array; validation: Int32Array } {
  if (validationFraction <= 0 || validationFraction >= 1) throw new Error('validation fraction must be in (0, 1)');
  const order = new Rng(seed).permutation(n);
  const nVal = Math.round(n * validationFraction);
  return { validation: order.slice(0, nVal), train: order.slice(nVal) };
}

/** Selects examples by index from flattened arrays. */
export function subset<T extends Float32Array | Int32Array>(values: T, featureSize: number, idx: Int32Array): T {
  const out = new (values.constructor as { new (n: number): T })(idx.length * featureSize);
  for (let k = 0; k < idx.length; k++)
    out.set(values.subarray(idx[k] * featureSize, (idx[k] + 1) * featureSize), k * featureSize);
  return out;
}
