import { tf } from '@introdl/core';

/**
 * Per-row cross-entropy −log softmax(logits)[target] with its gradient written by hand:
 * d/dlogits = softmax(logits) − onehot(target). Autodiff of logSumExp and a one-hot product builds
 * half a dozen [N, vocab] tensors and their gradients (max, equality masks, casts); with a 50k–260k
 * vocabulary those dominate the step after the matmuls. Here the forward pass keeps only the
 * log-normaliser, and the backward pass is three elementwise passes over [N, vocab].
 */
export function crossEntropyRows(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  const [N, V] = logits.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logZ = tf.logSumExp(x, -1) as tf.Tensor1D;
    const ids = tf.cast(targets, 'int32') as tf.Tensor1D;
    // forward only: the gradient never goes through this gather
    const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), ids) as tf.Tensor1D;
    const picked = tf.gather(x.reshape([N * V]), flat) as tf.Tensor1D;
    save([x, logZ, ids]); // kept until the backward pass
    return {
      value: tf.sub(logZ, picked) as tf.Tensor1D,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, z, t] = saved;
        const g = dy as tf.Tensor1D;
        const softmax = tf.exp(tf.sub(xs, z.reshape([N, 1])));
        return tf.mul(tf.sub(softmax, tf.oneHot(t as tf.Tensor1D, V)), g.reshape([N, 1]));
      },
    };
  });
  return op(logits) as tf.Tensor1D;
}
