import { tf } from '@introdl/core';
import { seededInit } from '../digits/models.js';

/**
 * The course's standard face classifier (`make_standard_classifier`): four convolution blocks,
 * each Conv → ReLU → BatchNorm, doubling then widening the filters from 12 (12, 24, 48, 72) while
 * halving the image (64 → 32 → 16 → 8 → 4), then Flatten (4·4·72 = 1152) → Dense(512, ReLU) →
 * Dense(nOutputs). With one output it is the face/not-face classifier (a logit); with 2·latent+1
 * it is the DB-VAE's encoder.
 */

/** Face images are 64×64 RGB. */
export const FACE_INPUT_SHAPE: [number, number, number] = [64, 64, 3];

/** The course's base number of filters. */
export const N_FILTERS = 12;

/**
 * Batch normalisation with PyTorch's defaults (the course's PT version): momentum 0.1 in PyTorch's
 * sense is 0.9 in Keras', and ε = 1e-5.
 */
function batchNorm(): tf.layers.Layer {
  return tf.layers.batchNormalization({ axis: -1, momentum: 0.9, epsilon: 1e-5 });
}

/** `make_standard_classifier(n_outputs)`. */
export function makeStandardClassifier(nOutputs = 1, seed = 1, nFilters = N_FILTERS): tf.Sequential {
  const conv = (filters: number, kernelSize: number, layer: number, first = false) =>
    tf.layers.conv2d({
      ...(first ? { inputShape: FACE_INPUT_SHAPE } : {}),
      filters,
      kernelSize,
      strides: 2,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: seededInit(seed, layer),
    });
  return tf.sequential({
    layers: [
      conv(nFilters, 5, 1, true),
      batchNorm(),
      conv(2 * nFilters, 5, 2),
      batchNorm(),
      conv(4 * nFilters, 3, 3),
      batchNorm(),
      conv(6 * nFilters, 3, 4),
      batchNorm(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 512, activation: 'relu', kernelInitializer: seededInit(seed, 5) }),
      tf.layers.dense({ units: nOutputs, kernelInitializer: seededInit(seed, 6) }),
    ],
  });
}
