import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { outputsAndGradients, randomInput, worstError } from './testing.js';

/** Output and gradients on cpu (tfjs' own FusedBatchNorm gradient) and on webgpu (fused). */
async function compare(fn: (...xs: tf.Tensor[]) => tf.Tensor, inputs: ReturnType<typeof randomInput>[]) {
  await tf.setBackend('cpu');
  const want = await outputsAndGradients(fn, inputs);
  await tf.setBackend('webgpu');
  const got = await outputsAndGradients(fn, inputs);
  return worstError(got, want);
}

describe.runIf(webgpuTestsEnabled())('fused batch-norm gradient on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  it('tf.batchNorm: gradients of x, mean, variance, offset and scale match tfjs on cpu within 1e-4', async () => {
    const rng = new Rng(11);
    const variance = randomInput([5], rng);
    variance.values = variance.values.map((v) => 0.5 + v * v);
    const inputs = [
      randomInput([2, 3, 4, 5], rng),
      randomInput([5], rng),
      variance,
      randomInput([5], rng),
      randomInput([5], rng),
    ];
    const { error, index } = await compare(
      (x, m, v, o, s) =>
        tf.batchNorm(x as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D, 1e-3),
      inputs,
    );
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('training-mode batch norm (moments, then normalise) matches tfjs on cpu', async () => {
    const rng = new Rng(12);
    const inputs = [randomInput([4, 6, 6, 3], rng, 2), randomInput([3], rng), randomInput([3], rng)];
    const { error, index } = await compare((x, gamma, beta) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x as tf.Tensor4D, mean, variance, beta as tf.Tensor1D, gamma as tf.Tensor1D, 1e-3);
    }, inputs);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('the gradient is two dispatches', async () => {
    await tf.setBackend('webgpu');
    const x = tf.randomNormal([2, 4, 4, 3]);
    const [m, v, o, s] = [tf.zeros([3]), tf.ones([3]), tf.zeros([3]), tf.ones([3])];
    const y = tf.batchNorm(x as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, s as tf.Tensor1D);
    const dy = tf.onesLike(y);
    const { counts, result } = await countGpuWork(() =>
      tf.tidy(() =>
        tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor) =>
          tf.batchNorm(a as tf.Tensor4D, b as tf.Tensor1D, c as tf.Tensor1D, d as tf.Tensor1D, e as tf.Tensor1D),
        )([x, m, v, o, s], dy),
      ),
    );
    // the forward batch norm again (1) and the gradient (2)
    expect(counts.dispatches).toBe(3);
    tf.dispose([x, m, v, o, s, y, dy, ...result]);
  });
});
