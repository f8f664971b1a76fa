import type * as tf from '@tensorflow/tfjs';
import { dispatch, grid, pipelineFor, webgpuBackend, words } from './runner.js';
import { WGSL_ELEMENTWISE_MAIN, wgslBindings } from './wgsl.js';

/**
 * Decoding's cache update in one WebGPU dispatch: the new keys rotated (RoPE, rotate-half) and the
 * new values written in place into preallocated caches at positions start..start+T−1. Through tfjs
 * ops it was RoPE on k (two slices, a negation, a concat, two products, an add), two transposes and
 * two concats growing the caches (each copying the whole history): eleven dispatches a layer.
 */

const SHADER = /* wgsl */ `
struct Params { batch: u32, time: u32, kvHeads: u32, d: u32, capacity: u32, start: u32, n: u32 }
${wgslBindings(['k', 'v', 'cs', 'sn'], ['kc', 'vc'])}
${WGSL_ELEMENTWISE_MAIN}
  // i runs over k's layout [B, T, nkv, d].
  let c = i % p.d;
  let g = (i / p.d) % p.kvHeads;
  let t = (i / (p.d * p.kvHeads)) % p.time;
  let b = i / (p.d * p.kvHeads * p.time);
  let h2 = p.d / 2u;
  var r: f32;
  if (c < h2) { r = -k[i + h2]; } else { r = k[i - h2]; }
  let dst = ((b * p.kvHeads + g) * p.capacity + p.start + t) * p.d + c;
  kc[dst] = k[i] * cs[t * p.d + c] + r * sn[t * p.d + c];
  vc[dst] = v[i];
}
`;

/**
 * Writes k, v [B, T, nkv, d] (k before RoPE; cos/sin [T, d] for positions start..) into the caches
 * kc, vc [B, nkv, capacity, d] at positions start..start+T−1, in place (start + T ≤ capacity; the
 * caches must not share their buffers). webgpu only.
 */
export function writeKVCacheWebGPU(
  kc: tf.Tensor4D,
  vc: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  cos: tf.Tensor2D,
  sin: tf.Tensor2D,
  start: number,
): void {
  const [batch, time, kvHeads, d] = k.shape;
  const capacity = kc.shape[2];
  if (start + time > capacity) throw new Error(`KV cache of ${capacity} positions cannot take ${start + time}`);
  const backend = webgpuBackend();
  dispatch(backend, {
    pipeline: pipelineFor(backend, 'introdl-kv-cache-write', () => SHADER),
    buffers: [k, v, cos, sin, kc, vc],
    uniforms: words(batch, time, kvHeads, d, capacity, start, k.size),
    workgroups: grid(k.size),
  });
}
