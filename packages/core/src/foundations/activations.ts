import * as tf from '@tensorflow/tfjs';

/**
 * The lecture's activation functions, written from their formulas so a student can read them.
 * tfjs differentiates them automatically; tests check those gradients against finite differences.
 */

/** σ(z) = 1 / (1 + e^(−z)): squashes any real number into (0, 1). */
export function sigmoid(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(1, tf.add(1, tf.exp(tf.neg(z)))));
}

/** tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), computed as 2σ(2z) − 1 so large |z| cannot overflow. */
export function tanh(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(2, sigmoid(tf.mul(2, z))), 1));
}

/** ReLU(z) = max(0, z). */
export function relu(z: tf.Tensor): tf.Tensor {
  return tf.maximum(z, 0);
}

/**
 * softmax(z)_i = e^(z_i) / Σ_j e^(z_j) over the last axis. Subtracting the row maximum first changes
 * nothing mathematically and keeps e^z from overflowing.
 */
export function softmax(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shifted = tf.sub(z, tf.max(z, -1, true));
    const e = tf.exp(shifted);
    return tf.div(e, tf.sum(e, -1, true));
  });
}

/** The identity g(z) = z, for a layer that outputs raw scores (logits). */
export function linear(z: tf.Tensor): tf.Tensor {
  return z;
}

/** The formulas above, by name, for students to read and plug in. */
export const ACTIVATIONS = { sigmoid, tanh, relu, softmax, linear } as const;
/** Names accepted wherever an activation is configured. */
export type ActivationName = keyof typeof ACTIVATIONS;
export type Activation = (z: tf.Tensor) => tf.Tensor;

/**
 * The same functions as single fused tfjs kernels. Layers configured by name use these: one kernel
 * instead of four is faster, and it rounds exactly as tf.layers does (the formulas above round after
 * every operation, so they agree only to about 1e-7).
 */
const KERNELS: Record<ActivationName, Activation> = {
  sigmoid: (z) => tf.sigmoid(z),
  tanh: (z) => tf.tanh(z),
  relu: (z) => tf.relu(z),
  softmax: (z) => tf.softmax(z),
  linear,
};

/** Resolves an activation given by name (a fused kernel) or as a function (used as is). */
export function getActivation(a: ActivationName | Activation): Activation {
  if (typeof a === 'function') return a;
  const fn = KERNELS[a];
  if (!fn) throw new Error(`unknown activation "${a}": use one of ${Object.keys(KERNELS).join(', ')}`);
  return fn;
}
