import { tf } from '@introdl/core';
import { readImage } from '../image/codec.js';
import { resizeBilinear } from '../image/resize.js';
import { type RgbImage, toUnitFloats } from '../image/rgb-image.js';

/**
 * Turning image files into face-model input the way the course's `get_test_faces` does: decode
 * (grey → three channels, alpha dropped), resize to 64×64 bilinearly, RGB, divide by 255.
 */

/** One image prepared for the face models: [64, 64, 3] floats in [0, 1]. */
export function faceInput(image: RgbImage): Float32Array {
  return toUnitFloats(resizeBilinear(image, 64, 64));
}

/** Reads and prepares image files as one [n, 64, 64, 3] tensor. */
export function faceTensorFromFiles(files: string[]): tf.Tensor4D {
  const data = new Float32Array(files.length * 64 * 64 * 3);
  files.forEach((f, i) => {
    data.set(faceInput(readImage(f)), i * 64 * 64 * 3);
  });
  return tf.tensor4d(data, [files.length, 64, 64, 3]);
}

/** P(face) = sigmoid(logit) for a batch of prepared images, in batches of `batchSize`. */
export function faceProbabilities(
  faceLogit: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  batchSize = 256,
): Float32Array {
  const n = x.shape[0];
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const p = tf.tidy(() => tf.sigmoid(faceLogit(tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]))).dataSync());
    out.set(p as Float32Array, start);
  }
  return out;
}

/**
 * P(face) in double precision, from the logits: in float32 every logit above about 17 gives P = 1
 * exactly, so the best windows of a photo (and the best validation faces) would tie. The detector
 * and its calibration use these.
 */
export function faceProbabilities64(
  faceLogit: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  batchSize = 256,
): Float64Array {
  const n = x.shape[0];
  const out = new Float64Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const logits = tf.tidy(() => faceLogit(tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1])).dataSync());
    for (let i = 0; i < size; i++) out[start + i] = 1 / (1 + Math.exp(-logits[i]));
  }
  return out;
}
