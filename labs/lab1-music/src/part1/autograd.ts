import { tf } from '@introdl/core';

/**
 * Part 1.5, automatic differentiation: tfjs records the operations of a function and computes its
 * gradient. For y = x², dy/dx = 2x, so 6 at x = 3.
 */
export function gradientOfSquare(x: number): number {
  return tf.tidy(() => {
    const dydx = tf.grad((t: tf.Tensor) => tf.square(t));
    return dydx(tf.scalar(x)).dataSync()[0];
  });
}
