import { tf } from '@introdl/core';

/**
 * Part 1.2, computations as a graph: each operation is a node, each tensor an edge. The course's
 * graph takes a and b, computes c = a + b and d = b − 1, and outputs e = c · d; with a = 1.5 and
 * b = 2.5 that is 4 · 1.5 = 6.
 */
export function func(a: tf.Scalar, b: tf.Scalar): tf.Scalar {
  // @exercise lab1.part1.3 "Define a computation graph"
  // Hint: c = a + b, d = b − 1 and e = c × d, each with a tf op (tf.add, tf.sub, tf.mul).
  return tf.tidy(() => {
    const c = tf.add(a, b);
    const d = tf.sub(b, 1);
    return tf.mul(c, d) as tf.Scalar;
  });
  // @end
}
