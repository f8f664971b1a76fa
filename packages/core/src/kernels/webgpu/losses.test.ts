import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { binaryCrossEntropyFromLogits, maskedMean, softmaxCrossEntropy } from '../../foundations/losses.js';
import { Rng } from '../../rng.js';
import { countGpuWork, gpuBreakdown } from '../../runtime/gpu-counters.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { outputsAndGradients, randomInput, worstError } from './testing.js';

/** Loss and dlogits on cpu (tfjs ops) and on webgpu (fused): their worst relative error. */
async function compare(fn: (logits: tf.Tensor) => tf.Tensor, logits: ReturnType<typeof randomInput>) {
  await tf.setBackend('cpu');
  const want = await outputsAndGradients(fn, [logits]);
  await tf.setBackend('webgpu');
  const got = await outputsAndGradients(fn, [logits]);
  return worstError(got, want);
}

describe.runIf(webgpuTestsEnabled())('fused losses on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  it('softmax cross-entropy (mean) matches the tfjs ops: loss and dlogits within 1e-4, 3-D logits, a label out of range', async () => {
    const rng = new Rng(21);
    const logits = randomInput([2, 3, 70], rng, 3);
    const labels = [5, 69, 0, -1, 33, 12];
    const { error, index } = await compare((z) => softmaxCrossEntropy(tf.tensor2d(labels, [2, 3], 'int32'), z), logits);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('softmax cross-entropy per position matches the tfjs ops: losses and dlogits within 1e-4, a label out of range', async () => {
    const rng = new Rng(24);
    const logits = randomInput([5, 70], rng, 3);
    const labels = [5, 69, 0, -1, 33];
    const { error, index } = await compare((z) => softmaxCrossEntropy(tf.tensor1d(labels, 'int32'), z, 'none'), logits);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('binary cross-entropy from logits (mean) matches the tfjs ops within 1e-4', async () => {
    const rng = new Rng(22);
    const logits = randomInput([6, 3], rng, 4);
    const labels = [1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0];
    const { error, index } = await compare((z) => binaryCrossEntropyFromLogits(tf.tensor2d(labels, [6, 3]), z), logits);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('softmax cross-entropy is two dispatches forward and one backward', async () => {
    await tf.setBackend('webgpu');
    const z = tf.randomNormal([8, 20]);
    const y = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8], 'int32');
    const forward = await countGpuWork(() => tf.tidy(() => tf.keep(softmaxCrossEntropy(y, z))));
    expect(forward.counts.dispatches).toBe(2);
    const both = await countGpuWork(() => tf.tidy(() => tf.grad((a: tf.Tensor) => softmaxCrossEntropy(y, a))(z)));
    expect(both.counts.dispatches).toBe(3);
    tf.dispose([z, y, forward.result, both.result]);
  });

  it('softmax cross-entropy per position is one dispatch each way', async () => {
    await tf.setBackend('webgpu');
    const z = tf.randomNormal([8, 20]);
    const y = tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8], 'int32');
    const dy = tf.randomNormal([8]);
    const forward = await countGpuWork(() => tf.tidy(() => tf.keep(softmaxCrossEntropy(y, z, 'none'))));
    expect(forward.counts.dispatches).toBe(1);
    const both = await countGpuWork(() =>
      tf.tidy(() => tf.grad((a: tf.Tensor) => softmaxCrossEntropy(y, a, 'none'))(z, dy)),
    );
    expect(both.counts.dispatches).toBe(2);
    tf.dispose([z, y, dy, forward.result, both.result]);
  });

  it('masked mean matches the tfjs ops: the mean and the gradients of values and mask within 1e-4, an empty mask', async () => {
    const rng = new Rng(25);
    const values = randomInput([3, 70], rng);
    for (const ones of [[0, 5, 69, 70, 100, 209], []]) {
      const mask = { values: new Float32Array(210), shape: [3, 70] };
      for (const i of ones) mask.values[i] = 1;
      await tf.setBackend('cpu');
      const want = await outputsAndGradients((v, m) => maskedMean(v, m), [values, mask]);
      await tf.setBackend('webgpu');
      const got = await outputsAndGradients((v, m) => maskedMean(v, m), [values, mask]);
      const { error, index } = worstError(got, want);
      expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('masked mean is one dispatch each way', async () => {
    await tf.setBackend('webgpu');
    const v = tf.randomNormal([8, 20]);
    const m = tf.cast(tf.greater(tf.randomNormal([8, 20]), 0), 'float32');
    const ours = () => Object.entries(gpuBreakdown()).filter(([label]) => label.startsWith('introdl-'));
    const forward = await countGpuWork(() => tf.tidy(() => tf.keep(maskedMean(v, m))));
    expect(ours()).toEqual([['introdl-masked-mean', 1]]);
    const both = await countGpuWork(() => tf.tidy(() => tf.grad((a: tf.Tensor) => maskedMean(a, m))(v)));
    expect(ours().map(([, count]) => count)).toEqual([1, 1]);
    tf.dispose([v, m, forward.result, both.result]);
  });
});
