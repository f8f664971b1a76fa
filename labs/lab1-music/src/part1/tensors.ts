import { tf } from '@introdl/core';

/**
 * Part 1.1, tensors: n-dimensional arrays with a shape and a dtype. The course builds a 2-D
 * matrix and a 4-D batch of images, then slices them.
 */

/** Exercise 1.1a: the 2×4 float matrix `[[1, 2, 3, 4], [5, 6, 7, 8]]` (rank 2). */
export function makeMatrix(): tf.Tensor2D {
  // @exercise lab1.part1.1 "Define a 2-d tensor"
  // Hint: tf.tensor2d takes nested arrays; the course's matrix is [[1, 2, 3, 4], [5, 6, 7, 8]].
  return tf.tensor2d([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ]);
  // @end
}

/**
 * Exercise 1.1b: a batch of 10 RGB images of 256×256, all zeros (rank 4). TensorFlow.js puts
 * channels last (NHWC), as the course's TF notebook does: `[10, 256, 256, 3]` where PyTorch has
 * `(10, 3, 256, 256)`.
 */
export function makeImages(): tf.Tensor4D {
  // @exercise lab1.part1.2 "Define a 4-d tensor"
  // Hint: tf.zeros takes the shape [batch, height, width, channels].
  return tf.zeros([10, 256, 256, 3]);
  // @end
}

/** The course's slicing examples on the matrix: `matrix[1]`, `matrix[:, 1]` and `matrix[0, 1]`. */
export function sliceExamples(matrix: tf.Tensor2D): { row: number[]; column: number[]; element: number } {
  return tf.tidy(() => ({
    row: Array.from(matrix.slice([1, 0], [1, -1]).dataSync()),
    column: Array.from(matrix.slice([0, 1], [-1, 1]).dataSync()),
    element: matrix.slice([0, 1], [1, 1]).dataSync()[0],
  }));
}
