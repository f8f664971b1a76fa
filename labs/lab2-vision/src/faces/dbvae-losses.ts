import { binaryCrossEntropyFromLogits, tf } from '@introdl/core';

/**
 * The DB-VAE's losses and its sampling step, in the course's corrected form:
 * - sampling uses the standard deviation exp(0.5·logsigma) (the PyTorch solution used exp(logsigma),
 *   which does not match its own KL term);
 * - the total loss is mean(classification + face·VAE) (the PyTorch solution had
 *   mean(classification·face + VAE), which trains the classifier on faces only).
 */

/** The course's KL weight. */
export const KL_WEIGHT = 0.0005;

/**
 * The VAE loss of each sample: `klWeight · KL + reconstruction`, where
 * KL = 0.5·Σ_j (exp(logsigma) + mu² − 1 − logsigma) over the latent dimensions and the
 * reconstruction loss is the mean absolute error over the image's pixels and channels.
 * Returns shape [batch].
 */
export function vaeLoss(
  x: tf.Tensor4D,
  xRecon: tf.Tensor4D,
  mu: tf.Tensor2D,
  logsigma: tf.Tensor2D,
  klWeight = KL_WEIGHT,
): tf.Tensor1D {
  // @exercise lab2.2.1 "VAE loss"
  // Hint: latent = 0.5·sum(exp(logsigma) + mu² − 1 − logsigma, axis 1); recon = mean(|x − xRecon|, axes [1, 2, 3]); return klWeight·latent + recon.
  return tf.tidy(() => {
    const latent = tf.mul(0.5, tf.sum(tf.sub(tf.sub(tf.add(tf.exp(logsigma), tf.square(mu)), 1), logsigma), 1));
    const reconstruction = tf.mean(tf.abs(tf.sub(x, xRecon)), [1, 2, 3]);
    return tf.add(tf.mul(klWeight, latent), reconstruction) as tf.Tensor1D;
  });
  // @end
}

/** Reparameterisation: z = mu + exp(0.5·logsigma)·ε with ε ~ N(0, I) given, so the draw is seeded. */
export function sampleLatent(mu: tf.Tensor2D, logsigma: tf.Tensor2D, epsilon: tf.Tensor2D): tf.Tensor2D {
  // @exercise lab2.2.2 "Reparameterisation"
  // Hint: logsigma is the log of the variance, so the standard deviation is exp(0.5·logsigma); return mu + std·epsilon.
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logsigma)), epsilon)) as tf.Tensor2D);
  // @end
}

/** The total DB-VAE loss (a scalar) and the per-sample classification loss. */
export interface DebiasingLoss {
  total: tf.Scalar;
  classification: tf.Tensor1D;
}

/**
 * The DB-VAE loss: every sample pays the classification loss (binary cross-entropy of its face
 * logit); faces (y = 1) also pay the VAE loss, because the VAE only models faces.
 * total = mean(classification + face·VAE).
 */
export function debiasingLoss(
  x: tf.Tensor4D,
  xRecon: tf.Tensor4D,
  y: tf.Tensor2D,
  yLogit: tf.Tensor2D,
  mu: tf.Tensor2D,
  logsigma: tf.Tensor2D,
  klWeight = KL_WEIGHT,
): DebiasingLoss {
  // @exercise lab2.2.3 "Debiasing loss"
  // Hint: vae = vaeLoss(...); classification = per-sample BCE from logits (reshape to [batch]); face = y reshaped to [batch]; total = mean(classification + face·vae).
  return tf.tidy(() => {
    const vae = vaeLoss(x, xRecon, mu, logsigma, klWeight);
    const classification = tf.reshape(binaryCrossEntropyFromLogits(y, yLogit, 'none'), [-1]) as tf.Tensor1D;
    const face = tf.reshape(y, [-1]);
    const total = tf.mean(tf.add(classification, tf.mul(face, vae))) as tf.Scalar;
    return { total, classification };
  });
  // @end
}
