import * as tf from '@tensorflow/tfjs';

/**
 * Gradient descent spelled out, as in the lecture: compute ∂L/∂w for every weight with automatic
 * differentiation, then step each weight against its gradient. Returns the loss before the step.
 */
export function gradientDescentStep(loss: () => tf.Scalar, weights: tf.Variable[], learningRate: number): number {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, weights);
    for (const w of weights) {
      const g = grads[w.name];
      w.assign(tf.sub(w, tf.mul(g, learningRate)));
    }
    return value.dataSync()[0];
  });
}

/**
 * Central finite differences: ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε for every element of `x`.
 * Slow and approximate, which is exactly why it is a good check of automatic differentiation.
 */
export function numericalGradient(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, epsilon = 1e-3): tf.Tensor {
  const base = x.dataSync().slice() as Float32Array;
  const grad = new Float32Array(base.length);
  const evalAt = (values: Float32Array) => tf.tidy(() => f(tf.tensor(values, x.shape)).dataSync()[0]);
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice();
    const minus = base.slice();
    plus[i] += epsilon;
    minus[i] -= epsilon;
    grad[i] = (evalAt(plus) - evalAt(minus)) / (2 * epsilon);
  }
  return tf.tensor(grad, x.shape);
}
