import * as tf from '@tensorflow/tfjs';
import type { MiniBatches } from '../data/batches.js';
import { softmaxCrossEntropy } from '../foundations/losses.js';

/** Mean softmax cross-entropy and accuracy of a classifier over a whole data set (no dropout). */
export function evaluateClassifier(
  predict: (x: tf.Tensor) => tf.Tensor,
  data: MiniBatches,
  batchSize = 500,
): { loss: number; accuracy: number } {
  let lossSum = 0;
  let correct = 0;
  for (const { x, y, count } of data.sequential(batchSize)) {
    const [l, c] = tf.tidy(() => {
      const logits = predict(x);
      const loss = softmaxCrossEntropy(y, logits).mul(count);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), tf.cast(y, 'int32')), 'int32'));
      return [loss.dataSync()[0], hits.dataSync()[0]];
    });
    tf.dispose([x, y]);
    lossSum += l;
    correct += c;
  }
  return { loss: lossSum / data.size, accuracy: correct / data.size };
}
