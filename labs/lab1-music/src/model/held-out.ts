import { softmaxCrossEntropy, tf } from '@introdl/core';
import { sequentialWindows } from '../data/batches.js';
import type { MusicModel } from './music-model.js';

/** Options of {@link heldOutLoss}. */
export interface HeldOutOptions {
  seqLength: number;
  /** Windows per forward pass. */
  batchSize?: number;
  /** Only the first this many windows (a quicker estimate during training). */
  maxWindows?: number;
}

/**
 * The mean negative log-likelihood per character (nats) of `vec`, read in consecutive windows of
 * `seqLength`, each from a zero state as in training: the model's average surprise at the true next
 * character. ln(vocab size) for a model that knows nothing; exp(loss) is the perplexity.
 */
export async function heldOutLoss(
  model: MusicModel,
  vec: Int32Array,
  options: HeldOutOptions,
): Promise<{ loss: number; chars: number }> {
  let sum = 0;
  let chars = 0;
  let windows = 0;
  for (const batch of sequentialWindows(vec, options.seqLength, options.batchSize ?? 32)) {
    let rows = batch.batchSize;
    if (options.maxWindows !== undefined) rows = Math.min(rows, options.maxWindows - windows);
    if (rows <= 0) break;
    const n = rows * batch.seqLength;
    const batchSum = tf.tidy(() => {
      const x = tf.tensor2d(batch.x.subarray(0, n), [rows, batch.seqLength], 'int32');
      const y = tf.tensor2d(batch.y.subarray(0, n), [rows, batch.seqLength], 'int32');
      return tf.sum(softmaxCrossEntropy(y, model.apply(x), 'none'));
    });
    // Read asynchronously: the webgpu backend cannot read synchronously in Node.
    sum += (await batchSum.data())[0];
    batchSum.dispose();
    chars += n;
    windows += rows;
  }
  if (chars === 0) throw new Error(`the held-out text is shorter than one window of ${options.seqLength} characters`);
  return { loss: sum / chars, chars };
}
