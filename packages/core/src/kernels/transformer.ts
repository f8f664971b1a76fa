import * as tf from '@tensorflow/tfjs';
import { cachedAttentionWebGPU, causalAttentionWebGPU } from './webgpu/attention.js';
import { writeKVCacheWebGPU } from './webgpu/kv-write.js';
import { loraLinearWebGPU } from './webgpu/lora.js';
import {
  groupVariant,
  type LoraGroupOptions,
  type LoraProjection,
  loraGroupFits,
  loraGroupWebGPU,
} from './webgpu/lora-group.js';
import { rmsNormWebGPU, swigluWebGPU } from './webgpu/norm-act.js';
import { fusedWebGPUActive, fusedWebGPUFits } from './webgpu/runner.js';

/**
 * Transformer building blocks that run as fused kernels on webgpu (INTRODL_WEBGPU_FUSED=0 turns them
 * off) and as plain tfjs ops elsewhere; both differentiable, with the same results (tests: 1e-4).
 */

/** RMSNorm over the last axis: x / √(mean(x²) + ε) · w, with w of the last axis' size. */
export function rmsNorm<X extends tf.Tensor>(x: X, w: tf.Tensor, eps: number): X {
  if (fusedWebGPUActive() && x.dtype === 'float32') return rmsNormWebGPU(x, w, eps) as X;
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w)) as X;
}

/** SwiGLU's gating: silu(gate) · up = gate · σ(gate) · up. */
export function swiglu<X extends tf.Tensor>(gate: X, up: X): X {
  if (fusedWebGPUActive() && gate.dtype === 'float32') return swigluWebGPU(gate, up) as X;
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up)) as X;
}

/** x [B, T, heads, D] rotated (rotate-half convention) by cos/sin [T, D]. */
function applyRope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  const [, T, , d] = x.shape;
  const x1 = x.slice([0, 0, 0, 0], [-1, -1, -1, d / 2]);
  const x2 = x.slice([0, 0, 0, d / 2], [-1, -1, -1, d / 2]);
  const rotated = tf.concat([tf.neg(x2), x1], 3);
  return tf.add(tf.mul(x, cos.reshape([1, T, 1, d])), tf.mul(rotated, sin.reshape([1, T, 1, d]))) as tf.Tensor4D;
}

/**
 * Causal grouped-query attention with rotary embeddings: q [B, T, nh, D], k and v [B, T, nkv, D]
 * before RoPE, cos/sin [T, D]; returns [B, T, nh, D]. Query head h attends with key/value head
 * ⌊h / (nh/nkv)⌋. One WGSL dispatch each way on webgpu; tfjs ops elsewhere.
 */
export function causalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  cos: tf.Tensor2D,
  sin: tf.Tensor2D,
  scale: number,
): tf.Tensor4D {
  const [B, T, nh, d] = q.shape;
  const nkv = k.shape[2];
  if (fusedWebGPUFits(10) && d % 2 === 0 && d <= 256) return causalAttentionWebGPU(q, k, v, cos, sin, scale);
  return tf.tidy(() => {
    const rep = nh / nkv;
    const qr = applyRope(q, cos, sin);
    const kr = applyRope(k, cos, sin).transpose([0, 2, 1, 3]); // [B, nkv, T, d]
    const vt = v.transpose([0, 2, 1, 3]);
    // heads h = g·rep + r share kv head g: [B, nkv, rep·T, d], one batched matmul per kv head
    const qg = qr.transpose([0, 2, 1, 3]).reshape([B, nkv, rep * T, d]);
    const scores = tf.mul(tf.matMul(qg, kr, false, true), scale);
    const allowed = tf.tile(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), [rep, 1]); // row r·T+t sees keys ≤ t
    const masked = tf.add(scores, tf.mul(tf.sub(1, allowed), -1e9));
    const attended = tf.matMul(tf.softmax(masked), vt); // [B, nkv, rep·T, d]
    return attended.reshape([B, nh, T, d]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  });
}

/**
 * Attention while decoding with a KV cache: T new queries q [B, T, nh, D] (before RoPE) at positions
 * start..start+T−1 (cos/sin [T, D] for those positions) over the cache's kc, vc [B, nkv, S, D]
 * (keys already rotated, S = start + T); each query sees the keys at or before its position.
 * One WGSL dispatch on webgpu; tfjs ops elsewhere. For generation (no gradient on webgpu).
 */
export function cachedAttention(
  q: tf.Tensor4D,
  kc: tf.Tensor4D,
  vc: tf.Tensor4D,
  cos: tf.Tensor2D,
  sin: tf.Tensor2D,
  scale: number,
  start: number,
): tf.Tensor4D {
  const [B, T, nh, d] = q.shape;
  const [, nkv, S] = kc.shape;
  if (fusedWebGPUActive() && d % 2 === 0 && d <= 256) return cachedAttentionWebGPU(q, kc, vc, cos, sin, scale, start);
  return tf.tidy(() => {
    const rep = nh / nkv;
    const qg = applyRope(q, cos, sin)
      .transpose([0, 2, 1, 3])
      .reshape([B, nkv, rep * T, d]);
    const scores = tf.mul(tf.matMul(qg, kc, false, true), scale); // [B, nkv, rep·T, S]
    const mask = new Float32Array(rep * T * S);
    for (let r = 0; r < rep; r++)
      for (let t = 0; t < T; t++) for (let s = start + t + 1; s < S; s++) mask[(r * T + t) * S + s] = -1e9;
    const attended = tf.matMul(tf.softmax(tf.add(scores, tf.tensor2d(mask, [rep * T, S]))), vc);
    return attended.reshape([B, nh, T, d]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  });
}

/**
 * A linear layer with a LoRA update: x [n, in]·Wᵀ (W [out, in], frozen) + scale·(x·Aᵀ)·Bᵀ (A [r, in],
 * B [out, r]). Two WGSL dispatches forward and four backward on webgpu; tfjs ops elsewhere.
 */
export function loraLinear(x: tf.Tensor2D, w: tf.Tensor2D, a: tf.Tensor2D, b: tf.Tensor2D, scale: number): tf.Tensor2D {
  if (fusedWebGPUActive() && x.dtype === 'float32' && w.dtype === 'float32') return loraLinearWebGPU(x, w, a, b, scale);
  return tf.tidy(() =>
    tf.add(tf.matMul(x, w, false, true), tf.mul(tf.matMul(tf.matMul(x, a, false, true), b, false, true), scale)),
  ) as tf.Tensor2D;
}

export type { LoraGroupOptions, LoraProjection };

/**
 * Several LoRA projections of the same x (a layer's q, k and v; gate and up): each
 * x·W_pᵀ + s_p·(x·A_pᵀ)·B_pᵀ, with the work around them that `options` names: x first through an
 * RMSNorm, a residual added to a single projection, or SwiGLU of gate and up (then the one output
 * silu(y_0)·y_1), and x itself last with `passInput`. One WGSL dispatch forward and one or two
 * backward (as the device's storage buffers allow) for the whole group on webgpu, the norm's
 * backward included, x's gradient summed over the projections; elsewhere, or where the device
 * binds too few storage buffers, {@link rmsNorm}, one {@link loraLinear} per projection, then the
 * add or {@link swiglu}.
 */
export function loraLinearGroup(
  x: tf.Tensor2D,
  projections: LoraProjection[],
  options: LoraGroupOptions = {},
): tf.Tensor2D[] {
  groupVariant(projections.length, options); // the options' own checks, on every backend
  if (loraGroupFits(x, projections, options)) return loraGroupWebGPU(x, projections, options);
  const input = options.norm ? rmsNorm(x, options.norm.w, options.norm.eps) : x;
  const ys = projections.map((p) => loraLinear(input, p.w, p.a, p.b, p.scale));
  const passed = options.passInput ? [x] : [];
  if (options.residual) return [tf.add(options.residual, ys[0]) as tf.Tensor2D];
  if (options.swiglu) return [swiglu(ys[0], ys[1]), ...passed];
  return [...ys, ...passed];
}

/** Whether decoding can keep its KV cache preallocated and fill it with {@link writeKVCache} (webgpu, head size as {@link cachedAttention} needs). */
export function kvCacheWritable(headDim: number): boolean {
  return fusedWebGPUActive() && headDim % 2 === 0 && headDim <= 256;
}

/**
 * Decoding's cache update: k (before RoPE) rotated with cos/sin, and v, both [B, T, nkv, d], written
 * into preallocated caches kc, vc [B, nkv, capacity, d] at positions start..start+T−1, in place:
 * one dispatch on webgpu (check {@link kvCacheWritable}). {@link cachedAttention} reads such a cache
 * directly (its keys past the queries' positions are never read).
 */
export function writeKVCache(
  kc: tf.Tensor4D,
  vc: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  cos: tf.Tensor2D,
  sin: tf.Tensor2D,
  start: number,
): void {
  writeKVCacheWebGPU(kc, vc, k, v, cos, sin, start);
}
