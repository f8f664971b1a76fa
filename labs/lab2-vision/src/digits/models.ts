import { tf } from '@introdl/core';

/**
 * Part 1's two models for 28×28 grey images, in tfjs-layers. Both end in 10 logits (no softmax):
 * the loss, softmax cross-entropy, takes logits, as PyTorch's CrossEntropyLoss does.
 */

/** The input shape of one image: height, width, one grey channel. */
export const DIGIT_INPUT_SHAPE: [number, number, number] = [28, 28, 1];

/** A seeded Glorot-uniform initialiser, so `--seed` fixes the starting weights. */
export function seededInit(seed: number, layer: number): ReturnType<typeof tf.initializers.glorotUniform> {
  return tf.initializers.glorotUniform({ seed: seed * 1009 + layer });
}

/**
 * The course's fully connected model: Flatten → Dense(128, ReLU) → Dense(10).
 * 784·128 + 128 + 128·10 + 10 = 101,770 parameters.
 */
export function buildFcModel(seed = 1): tf.Sequential {
  // @exercise lab2.1.1 "Fully connected model"
  // Hint: flatten the image to 784 values, then Dense(128) with ReLU, then Dense(10) with no activation (logits).
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: DIGIT_INPUT_SHAPE }),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: seededInit(seed, 1) }),
      tf.layers.dense({ units: 10, kernelInitializer: seededInit(seed, 2) }),
    ],
  });
  // @end
}

/**
 * The course's CNN: Conv(24, 3×3) → ReLU → MaxPool 2 → Conv(36, 3×3) → ReLU → MaxPool 2 →
 * Flatten (5·5·36 = 900) → Dense(128, ReLU) → Dense(10).
 * 240 + 7,812 + 115,328 + 1,290 = 124,670 parameters.
 */
export function buildCnnModel(seed = 1): tf.Sequential {
  // @exercise lab2.1.2 "CNN layers"
  // Hint: two blocks of conv2d (24 then 36 filters, 3×3, ReLU) each followed by 2×2 max-pooling, then flatten, Dense(128, ReLU), Dense(10).
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: DIGIT_INPUT_SHAPE,
        filters: 24,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: seededInit(seed, 1),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 36, kernelSize: 3, activation: 'relu', kernelInitializer: seededInit(seed, 2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: seededInit(seed, 3) }),
      tf.layers.dense({ units: 10, kernelInitializer: seededInit(seed, 4) }),
    ],
  });
  // @end
}

/** Number of trainable scalars of a layers model. */
export function countParameters(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}
