import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { loraLinear } from '../transformer.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { outputsAndGradients, randomInput, worstError } from './testing.js';

describe.runIf(webgpuTestsEnabled())('fused LoRA projection on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  it('matches the tfjs ops on cpu: output and the gradients of x, A and B within 1e-4', async () => {
    const [n, inF, outF, r] = [5, 70, 9, 3];
    const rng = new Rng(13);
    const w = randomInput([outF, inF], rng);
    const inputs = [randomInput([n, inF], rng), randomInput([r, inF], rng), randomInput([outF, r], rng)];
    const fn = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
      loraLinear(x as tf.Tensor2D, tf.tensor2d(w.values, [outF, inF]), a as tf.Tensor2D, b as tf.Tensor2D, 2.5);
    await tf.setBackend('cpu');
    const want = await outputsAndGradients(fn, inputs);
    await tf.setBackend('webgpu');
    const got = await outputsAndGradients(fn, inputs);
    const { error, index } = worstError(got, want);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('is two dispatches forward and four backward', async () => {
    await tf.setBackend('webgpu');
    const [x, w, a, b] = [
      tf.randomNormal([4, 6]),
      tf.randomNormal([5, 6]),
      tf.randomNormal([2, 6]),
      tf.randomNormal([5, 2]),
    ];
    const dy = tf.ones([4, 5]);
    const forward = await countGpuWork(() =>
      tf.tidy(() => tf.keep(loraLinear(x as tf.Tensor2D, w as tf.Tensor2D, a as tf.Tensor2D, b as tf.Tensor2D, 2))),
    );
    expect(forward.counts.dispatches).toBe(2);
    const both = await countGpuWork(() =>
      tf.tidy(() =>
        tf.grads((p: tf.Tensor, q: tf.Tensor, s: tf.Tensor) =>
          loraLinear(p as tf.Tensor2D, w as tf.Tensor2D, q as tf.Tensor2D, s as tf.Tensor2D, 2),
        )([x, a, b], dy),
      ),
    );
    expect(both.counts.dispatches).toBe(6);
    tf.dispose([x, w, a, b, dy, forward.result, ...both.result]);
  });
});
