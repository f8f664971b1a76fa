import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { binaryCrossEntropyFromLogits } from '../../foundations/losses.js';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { randomInput, worstError } from './testing.js';

/**
 * A small Lab 2-shaped tf.layers model (conv + ReLU → batch norm, twice with 'same' and 'valid'
 * padding, dense + ReLU, a linear dense) trained one step on cpu (tfjs' own layers and ops) and on webgpu (the fused layer
 * calls, batch-norm kernels and loss): loss, every weight's gradient and the moving statistics.
 */
function build(): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({
      inputShape: [9, 9, 3],
      filters: 5,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      activation: 'relu',
    }),
  );
  model.add(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
  model.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 1, padding: 'valid', activation: 'relu' }));
  model.add(tf.layers.batchNormalization());
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 6, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 1 }));
  return model;
}

/** Same weights everywhere: random normals from a seed, in the model's weight order. */
function weights(model: tf.Sequential): tf.Tensor[] {
  const rng = new Rng(3);
  return model.weights.map((w) => {
    const input = randomInput(w.shape as number[], rng, 0.5);
    // Positive variances for the moving statistics.
    const values = w.name.includes('moving_variance') ? input.values.map((v) => 0.5 + v * v) : input.values;
    return tf.tensor(values, input.shape);
  });
}

async function trainStep(): Promise<Float32Array[]> {
  const model = build();
  const initial = weights(model);
  model.setWeights(initial);
  tf.dispose(initial);
  const rng = new Rng(4);
  const x = tf.tensor(randomInput([6, 9, 9, 3], rng).values, [6, 9, 9, 3]);
  const y = tf.tensor([1, 0, 1, 1, 0, 0], [6, 1]);
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => binaryCrossEntropyFromLogits(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    trainable,
  );
  const inference = model.apply(x, { training: false }) as tf.Tensor;
  const results = [value, ...trainable.map((v) => grads[v.name]), ...model.nonTrainableWeights.map((w) => w.read())];
  const values = await Promise.all([...results, inference].map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([value, inference, x, y, ...Object.values(grads)]);
  model.dispose();
  return values;
}

describe.runIf(webgpuTestsEnabled())(
  'tf.layers Conv2D, Dense and BatchNormalization through fused kernels on WebGPU',
  () => {
    beforeAll(useWebGPUForTests);

    it('one training step matches cpu within 1e-4: loss, all gradients, moving statistics, inference output', async () => {
      await tf.setBackend('cpu');
      const want = await trainStep();
      await tf.setBackend('webgpu');
      const got = await trainStep();
      const { error, index } = worstError(got, want);
      expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
    });

    it('costs four dispatches per batch norm, one forward per conv and dense, and no uploads but the seed', async () => {
      await tf.setBackend('webgpu');
      const model = build();
      const x = tf.randomNormal([2, 9, 9, 3]);
      const y = tf.tensor([1, 0], [2, 1]);
      const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const step = () =>
        tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => binaryCrossEntropyFromLogits(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
            trainable,
          );
          tf.dispose(Object.values(grads));
          return tf.keep(value);
        });
      step().dispose(); // compiles and uploads the weights
      const { result, counts } = await countGpuWork(step);
      result.dispose();
      // Forward: 2 conv + 2 dense + 2·2 batch norm + loss = 9; backward: 4 masks + 4 weight products
      // + 3 input products (not the data's) + 2·2 batch norm + loss = 16. tfjs runs a convolution this
      // small as im2col + matmul: one more dispatch per conv forward.
      expect(counts.dispatches).toBeLessThanOrEqual(25 + 2);
      expect(counts.uploads).toBeLessThanOrEqual(1); // the loss gradient's seed, a scalar 1
      expect(counts.readbacks).toBe(0);
      tf.dispose([x, y]);
      model.dispose();
    });
  },
);
