import * as tf from '@tensorflow/tfjs';
import { BadShapeError } from '../errors.js';
import { bceFits, bceLogitsMeanWebGPU } from '../kernels/webgpu/bce.js';
import { maskedMeanFits, maskedMeanWebGPU } from '../kernels/webgpu/masked-mean.js';
import { softmaxXentFits, softmaxXentMeanWebGPU, softmaxXentRowsWebGPU } from '../kernels/webgpu/softmax-xent.js';

/**
 * Loss functions from the lecture, each returning the mean over the batch as a scalar.
 * Every one is written so that large logits cannot overflow (the log-sum-exp trick).
 */

function sameShape(what: string, a: tf.Tensor, b: tf.Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new BadShapeError(`${what}: predictions`, b.shape, a.shape);
  }
}

/** Mean squared error: mean((y − ŷ)²). For regression. */
export function meanSquaredError(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  sameShape('meanSquaredError', yPred, yTrue);
  return tf.tidy(() => tf.mean(tf.square(tf.sub(yTrue, yPred))) as tf.Scalar);
}

/**
 * Binary cross-entropy from logits z and labels y ∈ {0,1}: −[y·log σ(z) + (1−y)·log(1−σ(z))],
 * rewritten as max(z,0) − z·y + log(1 + e^(−|z|)) so it never takes the log of 0.
 * With `reduction: 'none'` it returns the per-element loss. The mean is one fused kernel each way
 * on webgpu.
 */
export function binaryCrossEntropyFromLogits(
  labels: tf.Tensor,
  logits: tf.Tensor,
  reduction: 'mean' | 'none' = 'mean',
): tf.Tensor {
  sameShape('binaryCrossEntropyFromLogits', logits, labels);
  if (reduction === 'mean' && bceFits(labels, logits)) return bceLogitsMeanWebGPU(labels, logits);
  return tf.tidy(() => {
    const perElement = tf.add(
      tf.sub(tf.relu(logits), tf.mul(logits, labels)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
    );
    return reduction === 'mean' ? tf.mean(perElement) : perElement;
  });
}

/** log softmax over the last axis: z − log Σ e^z, with the maximum subtracted for stability. */
export function logSoftmax(logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, -1, true));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
  });
}

/**
 * Softmax cross-entropy with integer labels (PyTorch's CrossEntropyLoss, Keras'
 * sparse_categorical_crossentropy(from_logits=true)): −log softmax(z)[label].
 * `logits` is [..., C] and `labels` an int32 tensor of the leading shape [...].
 * With `reduction: 'none'` it returns the per-position loss of shape [...]. On webgpu (int32 labels)
 * each is fused: the mean two dispatches forward and one backward, per position one each way.
 */
export function softmaxCrossEntropy(
  labels: tf.Tensor,
  logits: tf.Tensor,
  reduction: 'mean' | 'none' = 'mean',
): tf.Tensor {
  const lead = logits.shape.slice(0, -1);
  if (labels.shape.length !== lead.length || labels.shape.some((d, i) => d !== lead[i])) {
    throw new BadShapeError('softmaxCrossEntropy: labels', lead, labels.shape);
  }
  if (softmaxXentFits(labels, logits)) {
    return reduction === 'mean' ? softmaxXentMeanWebGPU(labels, logits) : softmaxXentRowsWebGPU(labels, logits);
  }
  return tf.tidy(() => {
    const classes = logits.shape[logits.shape.length - 1];
    const oneHot = tf.oneHot(tf.cast(labels, 'int32').flatten(), classes).reshape(logits.shape);
    const perPosition = tf.neg(tf.sum(tf.mul(oneHot, logSoftmax(logits)), -1));
    return reduction === 'mean' ? tf.mean(perPosition) : perPosition;
  });
}

/**
 * Mean of `values` over the positions where `mask` is 1 (for sequences with padding, or losses on
 * answer tokens only). Zero when the mask is empty, rather than NaN.
 */
export function maskedMean(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  sameShape('maskedMean: mask', mask, values);
  if (maskedMeanFits(values, mask)) return maskedMeanWebGPU(values, mask); // one dispatch each way
  return tf.tidy(() => {
    const m = tf.cast(mask, values.dtype);
    return tf.div(tf.sum(tf.mul(values, m)), tf.maximum(tf.sum(m), 1)) as tf.Scalar;
  });
}
