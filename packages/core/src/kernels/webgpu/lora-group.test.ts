import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { loraLinearGroup } from '../transformer.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { outputsAndGradients, randomInput, worstError } from './testing.js';

/** q, k, v-like projections of one x: different output sizes and scales, the same rank. */
const OUTS = [9, 4, 70];
const SCALES = [2.5, 1, 0.5];

describe.runIf(webgpuTestsEnabled())('grouped LoRA projections on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  // Rank 70: more than one pass of the forward workgroup's 64 threads over x·Aᵀ.
  it.each([3, 70])(
    'three projections of rank %i match the tfjs ops on cpu: outputs and the gradients of x, every A and B within 1e-4',
    async (r) => {
      const [n, inF] = [5, 70];
      const rng = new Rng(17);
      const ws = OUTS.map((out) => randomInput([out, inF], rng));
      const inputs = [
        randomInput([n, inF], rng),
        ...OUTS.map(() => randomInput([r, inF], rng)),
        ...OUTS.map((out) => randomInput([out, r], rng)),
      ];
      const fn = (x: tf.Tensor, ...ab: tf.Tensor[]) =>
        loraLinearGroup(
          x as tf.Tensor2D,
          OUTS.map((out, q) => ({
            w: tf.tensor2d(ws[q].values, [out, inF]),
            a: ab[q] as tf.Tensor2D,
            b: ab[OUTS.length + q] as tf.Tensor2D,
            scale: SCALES[q],
          })),
        );
      await tf.setBackend('cpu');
      const want = await outputsAndGradients(fn, inputs);
      await tf.setBackend('webgpu');
      const got = await outputsAndGradients(fn, inputs);
      const { error, index } = worstError(got, want);
      expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
    },
  );

  it('is one dispatch forward and two backward for the whole group', async () => {
    await tf.setBackend('webgpu');
    const x = tf.randomNormal([4, 6]) as tf.Tensor2D;
    const ws = OUTS.map((out) => tf.randomNormal([out, 6]) as tf.Tensor2D);
    const as = OUTS.map(() => tf.randomNormal([2, 6]) as tf.Tensor2D);
    const bs = OUTS.map((out) => tf.randomNormal([out, 2]) as tf.Tensor2D);
    const run = (xx: tf.Tensor, ...ab: tf.Tensor[]) =>
      loraLinearGroup(
        xx as tf.Tensor2D,
        OUTS.map((_, q) => ({ w: ws[q], a: ab[q] as tf.Tensor2D, b: ab[3 + q] as tf.Tensor2D, scale: 2 })),
      );
    const forward = await countGpuWork(() => tf.tidy(() => run(x, ...as, ...bs).map((t) => tf.keep(t))));
    expect(forward.counts.dispatches).toBe(1);
    // Σ of every output: tfjs adds its own sums, their gradients and the adds (counted apart).
    const loss = (xx: tf.Tensor, ...ab: tf.Tensor[]) => tf.addN(run(xx, ...ab).map((t) => tf.sum(t))) as tf.Scalar;
    const lossOnly = await countGpuWork(() => tf.tidy(() => tf.keep(loss(x, ...as, ...bs))));
    const both = await countGpuWork(() => tf.tidy(() => tf.grads(loss)([x, ...as, ...bs])));
    const gradientOfSums = 3; // tfjs fills each sum's gradient
    expect(both.counts.dispatches - lossOnly.counts.dispatches).toBeLessThanOrEqual(2 + gradientOfSums);
    tf.dispose([x, ...ws, ...as, ...bs, ...forward.result, lossOnly.result, ...both.result]);
  });
});
