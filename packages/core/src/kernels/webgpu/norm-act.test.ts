import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { rmsNorm, swiglu } from '../transformer.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { outputsAndGradients, randomInput, worstError } from './testing.js';

/** Outputs and every input's gradient on cpu (tfjs ops) and on webgpu (fused): their worst relative error. */
async function compare(fn: (...xs: tf.Tensor[]) => tf.Tensor, inputs: ReturnType<typeof randomInput>[]) {
  await tf.setBackend('cpu');
  const want = await outputsAndGradients(fn, inputs);
  await tf.setBackend('webgpu');
  const got = await outputsAndGradients(fn, inputs);
  return worstError(got, want);
}

describe.runIf(webgpuTestsEnabled())('fused RMSNorm and SwiGLU on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  it('RMSNorm matches the tfjs ops: output, dx and dw within 1e-4 (rows wider than a workgroup, 4-D input)', async () => {
    const rng = new Rng(5);
    for (const shape of [
      [7, 100],
      [2, 3, 4, 8],
    ]) {
      const width = shape[shape.length - 1];
      const inputs = [randomInput(shape, rng), randomInput([width], rng, 0.5)];
      const { error, index } = await compare((x, w) => rmsNorm(x, w, 1e-5), inputs);
      expect(error, `shape ${shape}: worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
    }
  });

  it('SwiGLU matches the tfjs ops: output and both gradients within 1e-4', async () => {
    const rng = new Rng(6);
    const inputs = [randomInput([5, 300], rng, 3), randomInput([5, 300], rng)];
    const { error, index } = await compare((g, u) => swiglu(g, u), inputs);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('costs one dispatch forward each; RMSNorm two backward, SwiGLU one', async () => {
    await tf.setBackend('webgpu');
    const x = tf.randomNormal([4, 16]);
    const w = tf.ones([16]);
    const forward = await countGpuWork(() => tf.tidy(() => tf.keep(swiglu(rmsNorm(x, w, 1e-5), x))));
    expect(forward.counts.dispatches).toBe(2);
    forward.result.dispose();
    const both = await countGpuWork(() =>
      tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(swiglu(rmsNorm(a, b, 1e-5), a)))([x, w])),
    );
    // forward 2, backward 3, plus tfjs' sum, its gradient (a fill) and the add of x's two gradients.
    expect(both.counts.dispatches).toBeLessThanOrEqual(2 + 3 + 4);
    expect(both.counts.readbacks).toBe(0);
    tf.dispose([x, w, ...both.result]);
  });
});
