import { tf } from '@introdl/core';
import { seededInit } from '../digits/models.js';
import { N_FILTERS } from './classifier.js';

/**
 * The course's face decoder (`make_face_decoder_network`): Dense(latent → 4·4·72, ReLU), reshape to
 * 4×4×72, then four transposed convolutions that double the size each time (4 → 8 → 16 → 32 → 64):
 * 48 (3×3), 24 (3×3), 12 (5×5) filters with ReLU, and 3 (5×5) with no activation, as in the
 * PyTorch version (the TensorFlow version also puts a ReLU on the last one).
 */
export function makeFaceDecoder(latentDim = 100, seed = 1, nFilters = N_FILTERS): tf.Sequential {
  const deconv = (filters: number, kernelSize: number, layer: number, activation: 'relu' | 'linear') =>
    tf.layers.conv2dTranspose({
      filters,
      kernelSize,
      strides: 2,
      padding: 'same',
      activation,
      kernelInitializer: seededInit(seed, layer),
    });
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [latentDim],
        units: 4 * 4 * 6 * nFilters,
        activation: 'relu',
        kernelInitializer: seededInit(seed, 101),
      }),
      tf.layers.reshape({ targetShape: [4, 4, 6 * nFilters] }),
      deconv(4 * nFilters, 3, 102, 'relu'),
      deconv(2 * nFilters, 3, 103, 'relu'),
      deconv(nFilters, 5, 104, 'relu'),
      deconv(3, 5, 105, 'linear'),
    ],
  });
}
