import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { lstmSequenceFused } from '../lstm/fused.js';
import { lstmSequencePlain } from '../lstm/plain.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { outputsAndGradients, randomInput, worstError } from './testing.js';

/** The LSTM sequence as a function of its six inputs, returning outputs, h_T and c_T. */
const run =
  (impl: 'plain' | 'webgpu') =>
  (...xs: tf.Tensor[]) => {
    const [x, kernel, recurrentKernel, bias, h, c] = xs as [
      tf.Tensor3D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor2D,
    ];
    const w = { kernel, recurrentKernel, bias };
    const r = impl === 'plain' ? lstmSequencePlain(x, w, { h, c }) : lstmSequenceFused(x, w, { h, c }, 'webgpu');
    return [r.outputs, r.state.h, r.state.c];
  };

function lstmInputs(batch: number, time: number, inputs: number, units: number, seed: number) {
  const rng = new Rng(seed);
  return [
    randomInput([batch, time, inputs], rng),
    randomInput([inputs, 4 * units], rng, 1 / Math.sqrt(inputs)),
    randomInput([units, 4 * units], rng, 1 / Math.sqrt(units)),
    randomInput([4 * units], rng, 0.5),
    randomInput([batch, units], rng, 0.5),
    randomInput([batch, units], rng, 0.5),
  ];
}

describe.runIf(webgpuTestsEnabled())('fused LSTM on WebGPU (software adapter in CI)', () => {
  beforeAll(useWebGPUForTests);

  it('matches the plain LSTM on cpu: outputs, final state and all six gradients within 1e-4', async () => {
    // 70 units: several workgroups of 8 and a partial one; batch 10: two blocks of up to 8 rows.
    const inputs = lstmInputs(10, 6, 5, 70, 1);
    await tf.setBackend('cpu');
    const want = await outputsAndGradients(run('plain'), inputs);
    await tf.setBackend('webgpu');
    const got = await outputsAndGradients(run('webgpu'), inputs);
    const { error, index } = worstError(got, want);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('costs one dispatch per time step each way, and reads nothing back', async () => {
    await tf.setBackend('webgpu');
    const time = 9;
    const inputs = lstmInputs(2, time, 4, 8, 2).map((i) => tf.tensor(i.values, i.shape));
    const f = run('webgpu');
    const small = await countGpuWork(() =>
      tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => tf.sum((f(...xs) as tf.Tensor[])[0]))(inputs)),
    );
    tf.dispose(small.result);
    const longer = lstmInputs(2, 2 * time, 4, 8, 2).map((i) => tf.tensor(i.values, i.shape));
    const big = await countGpuWork(() =>
      tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => tf.sum((f(...xs) as tf.Tensor[])[0]))(longer)),
    );
    tf.dispose([...big.result, ...inputs, ...longer]);
    expect((big.counts.dispatches - small.counts.dispatches) / time).toBe(2);
    expect(big.counts.readbacks).toBe(0);
  });
});
