import * as tf from '@tensorflow/tfjs';
import { f32, groups, launch, toTensor, webgpuBackend, words } from './runner.js';
import { wgslBindings } from './wgsl.js';

/**
 * Causal grouped-query attention with rotary embeddings as fused WebGPU kernels, for training: one
 * dispatch each way (FlashAttention-2's recomputation: nothing of size T×T is stored, only the
 * output and each row's log-sum-exp).
 *
 * q [B, T, nh, D], k and v [B, T, nkv, D] (before RoPE, in the rotate-half convention), cos and sin
 * [T, D]; query head h reads key/value head ⌊h / (nh/nkv)⌋ (Hugging Face's repeat_kv). The output is
 * [B, T, nh, D], the layout the output projection reads. Each thread owns one query row (forward,
 * dQ) or one key row (dK, dV) and loops over the other side with an online softmax; D is a
 * compile-time constant (one pipeline per head size).
 */

const PARAMS = 'batch: u32, time: u32, heads: u32, kvHeads: u32, scale: f32';

function common(d: number, params = PARAMS): string {
  return /* wgsl */ `
const D: u32 = ${d}u;
const H2: u32 = ${d / 2}u;
struct Params { ${params} }
`;
}

/** WGSL: this thread's query row (i, b, h), its key/value head g and its offset qb in q. */
const QUERY_ROW = `let i = gid.x;
  let b = gid.y / p.heads;
  let h = gid.y % p.heads;
  if (i >= p.time || b >= p.batch) { return; }
  let g = h / (p.heads / p.kvHeads);
  let qb = ((b * p.time + i) * p.heads + h) * D;`;

/** Rotated row `base` of `buf` at position `pos` into `out` (times `mul`). */
function rotate(buf: string, out: string, mul: string): string {
  return `for (var c = 0u; c < D; c++) {
      var r: f32;
      if (c < H2) { r = -${buf}[base + c + H2]; } else { r = ${buf}[base + c - H2]; }
      ${out}[c] = (${buf}[base + c] * cs[pos * D + c] + r * sn[pos * D + c]) * ${mul};
    }`;
}

/** {@link rotate} of the row at offset `base`, position `pos`, in a block of its own. */
function rotateRow(base: string, pos: string, buf: string, out: string, mul: string): string {
  return `{
    let base = ${base};
    let pos = ${pos};
    ${rotate(buf, out, mul)}
  }`;
}

/** The transpose of the rotation, applied to gradient `g` at position `pos`, written to `dst` row `base`. */
function unrotate(base: string, pos: string, g: string, dst: string): string {
  return `{
    let base = ${base};
    let pos = ${pos};
    for (var c = 0u; c < D; c++) {
      var r: f32;
      if (c < H2) { r = ${g}[c + H2] * sn[pos * D + c + H2]; } else { r = -${g}[c - H2] * sn[pos * D + c - H2]; }
      ${dst}[base + c] = ${g}[c] * cs[pos * D + c] + r;
    }
  }`;
}

/** One key of an online softmax: score `s` folded into max m, sum l and `acc` += e·`value(c)`. */
function onlineSoftmaxStep(value: string): string {
  return `let mNew = max(m, s);
    let corr = exp(m - mNew);
    let e = exp(s - mNew);
    l = l * corr + e;
    for (var c = 0u; c < D; c++) { acc[c] = acc[c] * corr + e * ${value}; }
    m = mNew;`;
}

function forwardShader(d: number): string {
  return /* wgsl */ `${common(d)}
${wgslBindings(['q', 'k', 'v', 'cs', 'sn'], ['o', 'lse'])}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${QUERY_ROW}
  var qr: array<f32, ${d}>;
  var kr: array<f32, ${d}>;
  var acc: array<f32, ${d}>;
  ${rotateRow('qb', 'i', 'q', 'qr', 'p.scale')}
  var m = -1e30;
  var l = 0.0;
  for (var j = 0u; j <= i; j++) {
    let base = ((b * p.time + j) * p.kvHeads + g) * D;
    let pos = j;
    ${rotate('k', 'kr', '1.0')}
    var s = 0.0;
    for (var c = 0u; c < D; c++) { s += qr[c] * kr[c]; }
    ${onlineSoftmaxStep('v[base + c]')}
  }
  for (var c = 0u; c < D; c++) { o[qb + c] = acc[c] / l; }
  lse[(b * p.heads + h) * p.time + i] = m + log(l);
}
`;
}

/**
 * The backward pass in one dispatch, its two halves side by side (z): they read only what the
 * forward pass kept, so neither waits for the other.
 * - z = 0, dQ per query row;
 * - z = 1, dK and dV per key row, over every query row at or after it of every head in its group.
 * Δ_i = dO_i·O_i (softmax's backward) is recomputed by each key row's thread rather than stored by
 * the query half: D more multiply-adds per (key, query) pair, about a quarter of that half's work.
 */
function backwardShader(d: number): string {
  return /* wgsl */ `${common(d)}
${wgslBindings(['q', 'k', 'v', 'cs', 'sn', 'o', 'lse', 'dO'], ['dq', 'dk', 'dv'])}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  var qr: array<f32, ${d}>;
  var kr: array<f32, ${d}>;
  if (gid.z == 0u) {
    ${QUERY_ROW}
    let row = (b * p.heads + h) * p.time + i;
    var acc: array<f32, ${d}>;
    ${rotateRow('qb', 'i', 'q', 'qr', 'p.scale')}
    var di = 0.0;
    for (var c = 0u; c < D; c++) { di += dO[qb + c] * o[qb + c]; }
    let L = lse[row];
    for (var j = 0u; j <= i; j++) {
      let base = ((b * p.time + j) * p.kvHeads + g) * D;
      let pos = j;
      ${rotate('k', 'kr', '1.0')}
      var s = 0.0;
      var dp = 0.0;
      for (var c = 0u; c < D; c++) { s += qr[c] * kr[c]; dp += dO[qb + c] * v[base + c]; }
      let ds = exp(s - L) * (dp - di);
      for (var c = 0u; c < D; c++) { acc[c] += ds * kr[c] * p.scale; }
    }
    ${unrotate('qb', 'i', 'acc', 'dq')}
    return;
  }
  let j = gid.x;
  let b = gid.y / p.kvHeads;
  let g = gid.y % p.kvHeads;
  if (j >= p.time || b >= p.batch) { return; }
  let rep = p.heads / p.kvHeads;
  let kb = ((b * p.time + j) * p.kvHeads + g) * D;
  var dkr: array<f32, ${d}>;
  var dvr: array<f32, ${d}>;
  ${rotateRow('kb', 'j', 'k', 'kr', '1.0')}
  for (var r = 0u; r < rep; r++) {
    let h = g * rep + r;
    for (var i = j; i < p.time; i++) {
      let base = ((b * p.time + i) * p.heads + h) * D;
      let pos = i;
      ${rotate('q', 'qr', 'p.scale')}
      let row = (b * p.heads + h) * p.time + i;
      var s = 0.0;
      var dp = 0.0;
      var delta = 0.0;
      for (var c = 0u; c < D; c++) {
        s += qr[c] * kr[c];
        dp += dO[base + c] * v[kb + c];
        delta += dO[base + c] * o[base + c];
      }
      let pr = exp(s - lse[row]);
      let ds = pr * (dp - delta);
      for (var c = 0u; c < D; c++) { dvr[c] += pr * dO[base + c]; dkr[c] += ds * qr[c]; }
    }
  }
  for (var c = 0u; c < D; c++) { dv[kb + c] = dvr[c]; }
  ${unrotate('kb', 'j', 'dkr', 'dk')}
}
`;
}

/**
 * Causal GQA attention with RoPE on webgpu, differentiable in q, k and v (the rotary tables are
 * constants). `scale` multiplies the scores (1/√D for Llama).
 */
export function causalAttentionWebGPU(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  cos: tf.Tensor2D,
  sin: tf.Tensor2D,
  scale: number,
): tf.Tensor4D {
  const [batch, time, heads, d] = q.shape;
  const kvHeads = k.shape[2];
  const uniforms = () => words(batch, time, heads, kvHeads, f32(scale));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qs, ks, vs] = args as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const save = args[3] as tf.GradSaveFunc;
    const backend = webgpuBackend();
    const [o, lse] = launch(backend, `introdl-attention-forward-${d}`, () => forwardShader(d), {
      inputs: [qs, ks, vs, cos, sin],
      outputs: [qs.shape, [batch, heads, time]],
      uniforms: uniforms(),
      workgroups: [groups(time), batch * heads],
    });
    const out = toTensor<tf.Tensor4D>(o);
    save([qs, ks, vs, cos, sin, out, toTensor(lse)]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sc, ss, so, sl] = saved;
        const be = webgpuBackend();
        const [dq, dk, dv] = launch(be, `introdl-attention-backward-${d}`, () => backwardShader(d), {
          inputs: [sq, sk, sv, sc, ss, so, sl, dy],
          outputs: [sq.shape, sk.shape, sv.shape],
          uniforms: uniforms(),
          workgroups: [groups(time), batch * heads, 2],
        });
        return [toTensor(dq), toTensor(dk), toTensor(dv)];
      },
    };
  });
  return op(q, k, v) as tf.Tensor4D;
}

/** Decoding with a KV cache: queries at positions start..start+T−1 against S cached (rotated) keys. */
function cachedShader(d: number): string {
  return /* wgsl */ `${common(d, `${PARAMS}, keys: u32, start: u32`)}
${wgslBindings(['q', 'kc', 'vc', 'cs', 'sn'], ['o'])}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${QUERY_ROW}
  var qr: array<f32, ${d}>;
  var acc: array<f32, ${d}>;
  ${rotateRow('qb', 'i', 'q', 'qr', 'p.scale')}
  var m = -1e30;
  var l = 0.0;
  let last = min(p.start + i, p.keys - 1u);
  for (var j = 0u; j <= last; j++) {
    let kb = ((b * p.kvHeads + g) * p.keys + j) * D;
    var s = 0.0;
    for (var c = 0u; c < D; c++) { s += qr[c] * kc[kb + c]; }
    ${onlineSoftmaxStep('vc[kb + c]')}
  }
  for (var c = 0u; c < D; c++) { o[qb + c] = acc[c] / l; }
}
`;
}

/**
 * Attention of T new queries (q [B, T, nh, D] before RoPE, at positions start..start+T−1; cos/sin
 * [T, D] for those positions) over a KV cache kc, vc [B, nkv, S, D] (keys already rotated), each
 * query seeing the keys at or before its position: one dispatch. Not differentiable (generation).
 */
export function cachedAttentionWebGPU(
  q: tf.Tensor4D,
  kc: tf.Tensor4D,
  vc: tf.Tensor4D,
  cos: tf.Tensor2D,
  sin: tf.Tensor2D,
  scale: number,
  start: number,
): tf.Tensor4D {
  const [batch, time, heads, d] = q.shape;
  const [, kvHeads, keys] = kc.shape;
  const backend = webgpuBackend();
  const [o] = launch(backend, `introdl-attention-cached-${d}`, () => cachedShader(d), {
    inputs: [q, kc, vc, cos, sin],
    outputs: [q.shape],
    uniforms: words(batch, time, heads, kvHeads, f32(scale), keys, start),
    workgroups: [groups(time), batch * heads],
  });
  return toTensor<tf.Tensor4D>(o);
}
