import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { countGpuWork } from '../../runtime/gpu-counters.js';
import { cachedAttention, causalAttention } from '../transformer.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { outputsAndGradients, randomInput, worstError } from './testing.js';

/** Rotary tables for positions [0, T) and head size d (Llama's, base 10000). */
function ropeTables(T: number, d: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  const cos = new Float32Array(T * d);
  const sin = new Float32Array(T * d);
  for (let t = 0; t < T; t++)
    for (let c = 0; c < d; c++) {
      const angle = t / 10000 ** ((2 * (c % (d / 2))) / d);
      cos[t * d + c] = Math.cos(angle);
      sin[t * d + c] = Math.sin(angle);
    }
  return { cos: tf.tensor2d(cos, [T, d]), sin: tf.tensor2d(sin, [T, d]) };
}

describe.runIf(webgpuTestsEnabled())('fused causal GQA attention with RoPE on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  it('matches the tfjs ops on cpu: output, dq, dk and dv within 1e-4', async () => {
    const [B, T, nh, nkv, d] = [2, 9, 4, 2, 8];
    const rng = new Rng(8);
    const inputs = [
      randomInput([B, T, nh, d], rng),
      randomInput([B, T, nkv, d], rng),
      randomInput([B, T, nkv, d], rng),
    ];
    const fn = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
      const { cos, sin } = ropeTables(T, d);
      return causalAttention(q as tf.Tensor4D, k as tf.Tensor4D, v as tf.Tensor4D, cos, sin, 1 / Math.sqrt(d));
    };
    await tf.setBackend('cpu');
    const want = await outputsAndGradients(fn, inputs);
    await tf.setBackend('webgpu');
    const got = await outputsAndGradients(fn, inputs);
    const { error, index } = worstError(got, want);
    expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
  });

  it('is one dispatch each way', async () => {
    await tf.setBackend('webgpu');
    const [B, T, nh, nkv, d] = [1, 5, 2, 1, 4];
    const { cos, sin } = ropeTables(T, d);
    const [q, k, v] = [
      tf.randomNormal([B, T, nh, d]),
      tf.randomNormal([B, T, nkv, d]),
      tf.randomNormal([B, T, nkv, d]),
    ];
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      causalAttention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, cos, sin, 0.5);
    const forward = await countGpuWork(() => tf.tidy(() => tf.keep(f(q, k, v))));
    expect(forward.counts.dispatches).toBe(1);
    // The loss Σ out·1 comes from tfjs' sum (1) and its gradient (a fill, 1): 2 + 1 + 1.
    const both = await countGpuWork(() => tf.tidy(() => tf.grads((a, b, c) => tf.sum(f(a, b, c)))([q, k, v])));
    expect(both.counts.dispatches).toBeLessThanOrEqual(4);
    expect(both.counts.readbacks).toBe(0);
    tf.dispose([forward.result, ...both.result, q, k, v, cos, sin]);
  });

  it('decoding with a KV cache: the last rows of full causal attention, on cpu and webgpu within 1e-4', async () => {
    const [B, T, nh, nkv, d, start] = [2, 9, 4, 2, 8, 6];
    const rng = new Rng(9);
    const [qi, ki, vi] = [
      randomInput([B, T, nh, d], rng),
      randomInput([B, T, nkv, d], rng),
      randomInput([B, T, nkv, d], rng),
    ];
    const run = async (backend: 'cpu' | 'webgpu') => {
      await tf.setBackend(backend);
      const out = tf.tidy(() => {
        const [q, k, v] = [
          tf.tensor4d(qi.values, qi.shape as [number, number, number, number]),
          tf.tensor4d(ki.values, ki.shape as [number, number, number, number]),
          tf.tensor4d(vi.values, vi.shape as [number, number, number, number]),
        ];
        const { cos, sin } = ropeTables(T, d);
        const full = causalAttention(q, k, v, cos, sin, 0.3);
        // the cache holds every position's rotated key and value as [B, nkv, S, d]
        const half = d / 2;
        const rot = tf.concat(
          [tf.neg(k.slice([0, 0, 0, half], [-1, -1, -1, half])), k.slice([0, 0, 0, 0], [-1, -1, -1, half])],
          3,
        );
        const kr = tf.add(tf.mul(k, cos.reshape([1, T, 1, d])), tf.mul(rot, sin.reshape([1, T, 1, d])));
        const tail = (x: tf.Tensor2D) => x.slice([start, 0], [T - start, d]);
        const cached = cachedAttention(
          q.slice([0, start, 0, 0], [B, T - start, nh, d]),
          kr.transpose([0, 2, 1, 3]) as tf.Tensor4D,
          v.transpose([0, 2, 1, 3]) as tf.Tensor4D,
          tail(cos),
          tail(sin),
          0.3,
          start,
        );
        return [full.slice([0, start, 0, 0], [B, T - start, nh, d]), cached];
      });
      const values = await Promise.all(out.map((t) => t.data() as Promise<Float32Array>));
      tf.dispose(out);
      return values;
    };
    const [wantFull, wantCached] = await run('cpu');
    const [gotFull, gotCached] = await run('webgpu');
    expect(worstError([wantCached], [wantFull]).error).toBeLessThanOrEqual(1e-5);
    expect(worstError([gotCached, gotFull], [wantCached, wantFull]).error).toBeLessThanOrEqual(1e-4);
  });
});
