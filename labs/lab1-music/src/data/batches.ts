import { BadFlagError, type Rng, tf } from '@introdl/core';

/** One training batch: `x` and `y` are `[batchSize, seqLength]` character indices, row-major. */
export interface CharBatch {
  x: Int32Array;
  y: Int32Array;
  batchSize: number;
  seqLength: number;
}

/**
 * Exercise 2.2 of the course (`get_batch`): `batchSize` random windows of the vectorized text.
 * With `n = vec.length − 1`, each window starts at a uniform `i` in `[0, n − seqLength)` (drawn
 * with replacement); its input is `vec[i .. i+L)` and its target the same window shifted by one,
 * `vec[i+1 .. i+L+1)`: at every position the model learns to predict the next character.
 *
 * @throws BadFlagError when the text is too short for one window of `seqLength`.
 */
export function getBatch(vec: Int32Array, seqLength: number, batchSize: number, rng: Rng): CharBatch {
  if (!Number.isInteger(seqLength) || seqLength < 1)
    throw new BadFlagError(`sequence length must be ≥ 1, got ${seqLength}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new BadFlagError(`batch size must be ≥ 1, got ${batchSize}`);
  const n = vec.length - 1;
  if (n - seqLength < 1) {
    throw new BadFlagError(`the text has ${vec.length} characters: too short for windows of ${seqLength} + 1`);
  }
  const x = new Int32Array(batchSize * seqLength);
  const y = new Int32Array(batchSize * seqLength);
  // @exercise lab1.part2.2 "Batch definition"
  // Hint: draw a start i = rng.int(n - seqLength) per row; copy vec[i .. i+L) into x and vec[i+1 .. i+L+1) into y.
  for (let b = 0; b < batchSize; b++) {
    const i = rng.int(n - seqLength);
    x.set(vec.subarray(i, i + seqLength), b * seqLength);
    y.set(vec.subarray(i + 1, i + seqLength + 1), b * seqLength);
  }
  // @end
  return { x, y, batchSize, seqLength };
}

/** A batch as int32 tensors of shape `[batchSize, seqLength]` (the caller disposes them). */
export function batchTensors(batch: CharBatch): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const shape: [number, number] = [batch.batchSize, batch.seqLength];
  return { x: tf.tensor2d(batch.x, shape, 'int32'), y: tf.tensor2d(batch.y, shape, 'int32') };
}

/**
 * Consecutive, non-overlapping windows covering `vec` (the last partial window dropped): the
 * deterministic batches of an evaluation, each `[≤ batchSize, seqLength]`.
 */
export function* sequentialWindows(vec: Int32Array, seqLength: number, batchSize: number): Generator<CharBatch> {
  const windows = Math.floor((vec.length - 1) / seqLength);
  for (let w0 = 0; w0 < windows; w0 += batchSize) {
    const rows = Math.min(batchSize, windows - w0);
    const x = new Int32Array(rows * seqLength);
    const y = new Int32Array(rows * seqLength);
    for (let r = 0; r < rows; r++) {
      const i = (w0 + r) * seqLength;
      x.set(vec.subarray(i, i + seqLength), r * seqLength);
      y.set(vec.subarray(i + 1, i + seqLength + 1), r * seqLength);
    }
    yield { x, y, batchSize: rows, seqLength };
  }
}
