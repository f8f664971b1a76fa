import { softmaxCrossEntropy, type tf } from '@introdl/core';

/**
 * Exercise 2.5 of the course (exercise lab1.part2.4 here) (`compute_loss`): the mean cross-entropy between the true next
 * characters `labels` `[batch, time]` and the model's `logits` `[batch, time, vocab]`, i.e. the
 * average negative log-probability the model gave the right character. An untrained model spreads
 * its probability evenly, so its loss is about ln(vocab size): ln 83 ≈ 4.42.
 */
export function computeLoss(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  // @exercise lab1.part2.4 "Define the loss function"
  // Hint: core's softmaxCrossEntropy(labels, logits) takes integer labels and raw logits and averages.
  return softmaxCrossEntropy(labels, logits) as tf.Scalar;
  // @end
}
