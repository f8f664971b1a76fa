import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam, Lion, type Optimizer } from '../../foundations/optimizers.js';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { randomInput, relativeError } from './testing.js';

/** Shapes of a small model's parameters: more of them than one dispatch can bind on llvmpipe. */
const SHAPES = [[3], [300], [1], [70, 5], [9, 4], [2, 2, 2], [257]];

/** Three optimizer steps from fixed weights and gradients; the weights and slots after them. */
async function threeSteps(make: () => Optimizer, backend: 'cpu' | 'webgpu'): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const rng = new Rng(3);
  const params = new Map(SHAPES.map((s, i) => [`p${i}`, tf.variable(tf.tensor(randomInput(s, rng).values, s))]));
  const optimizer = make();
  for (let step = 0; step < 3; step++) {
    const grads: Record<string, tf.Tensor> = {};
    for (const [name, w] of params)
      grads[name] = tf.tensor(randomInput(w.shape, rng, 0.1 * (step + 1)).values, w.shape);
    optimizer.applyGradients(params, grads);
    tf.dispose(Object.values(grads));
  }
  const state = [...params.values(), ...optimizer.getState().tensors.values()];
  const values = await Promise.all(state.map((t) => t.data() as Promise<Float32Array>));
  for (const v of params.values()) v.dispose();
  optimizer.dispose();
  return values;
}

describe.runIf(webgpuTestsEnabled())('fused optimizer updates on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  const cases: [string, () => Optimizer][] = [
    ['Adam', () => new Adam(0.01)],
    ['AdamW', () => new Adam(0.01, { weightDecay: 0.1 })],
    ['Lion', () => new Lion(0.003, { weightDecay: 0.05 })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: weights and slots after three steps match the tfjs ops on cpu within 1e-4`, async () => {
      const want = await threeSteps(make, 'cpu');
      const got = await threeSteps(make, 'webgpu');
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        expect(relativeError(got[i], want[i]), `tensor ${i}`).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('updates every parameter in ⌈n / (storage buffers / 4)⌉ dispatches, reading nothing back', async () => {
    await tf.setBackend('webgpu');
    const params = new Map(SHAPES.map((s, i) => [`p${i}`, tf.variable(tf.ones(s))]));
    const grads = Object.fromEntries([...params].map(([k, v]) => [k, tf.onesLike(v)]));
    const adam = new Adam(0.1);
    adam.applyGradients(params, grads); // creates the slots
    const { counts } = await countGpuWork(() => adam.applyGradients(params, grads));
    // Updates are in place, so a tensor sharing a weight's buffer (a clone, on webgpu) must not change.
    const p1 = params.get('p1') as tf.Variable;
    const before = Array.from(await p1.data());
    const snapshot = tf.clone(p1);
    adam.applyGradients(params, grads);
    expect(Array.from(await snapshot.data())).toEqual(before);
    expect(Array.from(await p1.data())).not.toEqual(before);
    snapshot.dispose();
    const limit = (tf.backend() as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage;
    expect(counts.dispatches).toBe(Math.ceil(SHAPES.length / Math.floor(limit / 4)));
    expect(counts.readbacks).toBe(0);
    tf.dispose([...params.values(), ...Object.values(grads)]);
    adam.dispose();
  });
});
