import { MiniBatches, softmaxCrossEntropy, tf } from '@introdl/core';
import type { DigitsData } from './data.js';
import { DIGIT_INPUT_SHAPE } from './models.js';

/** How many of a batch's predictions are right: the argmax of each row of logits equals its label. */
export function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): number {
  // @exercise lab2.1.3 "Count correct predictions"
  // Hint: the predicted class is tf.argMax(logits, 1); compare it with the labels (tf.equal) and sum the matches.
  return tf.tidy(() => {
    const predicted = tf.argMax(logits, 1);
    const hits = tf.equal(predicted, tf.cast(labels, 'int32'));
    return tf.sum(tf.cast(hits, 'int32')).dataSync()[0];
  });
  // @end
}

/** Mean loss and accuracy of a model over a whole split, in batches (no training-mode layers). */
export function evaluateDigits(
  model: tf.LayersModel,
  data: DigitsData,
  batchSize = 500,
): { loss: number; accuracy: number; correct: number; total: number } {
  const batches = new MiniBatches(data.images, data.labels, DIGIT_INPUT_SHAPE, batchSize);
  let lossSum = 0;
  let correct = 0;
  for (const { x, y, count } of batches.sequential(batchSize)) {
    const logits = model.predict(x) as tf.Tensor2D;
    lossSum += tf.tidy(() => softmaxCrossEntropy(y, logits).dataSync()[0]) * count;
    correct += countCorrect(logits, y as tf.Tensor1D);
    tf.dispose([x, y, logits]);
  }
  return { loss: lossSum / data.n, accuracy: correct / data.n, correct, total: data.n };
}

/** Class probabilities (softmax of the logits) for `n` images, `[n][10]`. */
export function predictProbabilities(model: tf.LayersModel, images: Float32Array, n: number): number[][] {
  return tf.tidy(() => {
    const x = tf.tensor4d(images, [n, ...DIGIT_INPUT_SHAPE]);
    return tf.softmax(model.predict(x) as tf.Tensor2D).arraySync() as number[][];
  });
}
