import { WGSL_MATH } from './runner.js';

/**
 * WGSL for the fused LSTM, one dispatch per time step each way. Keras gate order (i, f, c, o);
 * a workgroup per (16 units, batch row b), whose 256 threads split each dot product 16 ways
 * (one thread per unit would leave a GPU mostly idle: B·u threads, each a loop of u or 4u).
 *
 * Buffers (float32, row-major):
 *   xp [B, T, 4u]     x·W + b for every step (one matmul before the loop)
 *   rk [u, 4u]        recurrent kernel U;  rkT [4u, u] its transpose (backward)
 *   packed [B, T+1, u] every step's h, then the last c (the op's one output)
 *   gates [T, B, 4u]  activated gates;  cs [T+1, B, u] cell states, row 0 = c0
 *   hprev [B, T, u]   h_{t−1} for every row (b, t) of dZ, so dU = hprevᵀ·dZ is one matmul
 *   dz [B, T, 4u]     dL/dz, batch-major rows like x, so dW = xᵀ·dZ and dx = dZ·Wᵀ are plain matmuls
 */

/** Forward step t: z = xp[:, t] + h_{t−1}·U, the gates, c_t and h_t. */
export const LSTM_FORWARD_WGSL = /* wgsl */ `
struct Params { batch: u32, time: u32, units: u32, t: u32 }
@group(0) @binding(0) var<storage, read> xp: array<f32>;
@group(0) @binding(1) var<storage, read> rk: array<f32>;
@group(0) @binding(2) var<storage, read> h0: array<f32>;
@group(0) @binding(3) var<storage, read> c0: array<f32>;
@group(0) @binding(4) var<storage, read_write> packed: array<f32>;
@group(0) @binding(5) var<storage, read_write> gates: array<f32>;
@group(0) @binding(6) var<storage, read_write> cs: array<f32>;
@group(0) @binding(7) var<storage, read_write> hprev: array<f32>;
@group(0) @binding(8) var<uniform> p: Params;
${WGSL_MATH}
var<workgroup> part: array<vec4<f32>, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // 16 units per workgroup (lid.x), the recurrent dot products split in 16 slices of k (lid.y),
  // summed through workgroup memory: 16× the threads of one-thread-per-unit, 1/16 of the serial loop.
  let j = wid.x * 16u + lid.x;
  let b = wid.y;
  let u = p.units;
  let t = p.t;
  let live = j < u && b < p.batch;
  let u4 = 4u * u;
  let chunk = (u + 15u) / 16u;
  let k0 = lid.y * chunk;
  let k1 = min(k0 + chunk, u);
  var acc = vec4<f32>(0.0);
  if (live) {
    if (t == 0u) {
      for (var k = k0; k < k1; k++) {
        let hk = h0[b * u + k];
        let r = k * u4 + j;
        acc += hk * vec4<f32>(rk[r], rk[r + u], rk[r + 2u * u], rk[r + 3u * u]);
      }
    } else {
      let hrow = (b * p.time + t) * u;
      for (var k = k0; k < k1; k++) {
        let hk = hprev[hrow + k];
        let r = k * u4 + j;
        acc += hk * vec4<f32>(rk[r], rk[r + u], rk[r + 2u * u], rk[r + 3u * u]);
      }
    }
  }
  part[lid.y * 16u + lid.x] = acc;
  workgroupBarrier();
  if (!live || lid.y != 0u) { return; }
  var z = vec4<f32>(0.0);
  for (var s = 0u; s < 16u; s++) { z += part[s * 16u + lid.x]; }
  let xrow = (b * p.time + t) * u4;
  let zi = z.x + xp[xrow + j];
  let zf = z.y + xp[xrow + u + j];
  let zc = z.z + xp[xrow + 2u * u + j];
  let zo = z.w + xp[xrow + 3u * u + j];
  var cprev: f32;
  if (t == 0u) {
    // h_{−1} = h0 was read from the input; hprev's row 0 is written for the backward pass.
    cprev = c0[b * u + j];
    cs[b * u + j] = cprev;
    hprev[(b * p.time) * u + j] = h0[b * u + j];
  } else {
    cprev = cs[(t * p.batch + b) * u + j];
  }
  let i = sigmoid_(zi);
  let f = sigmoid_(zf);
  let g = tanh_(zc);
  let o = sigmoid_(zo);
  let c = f * cprev + i * g;
  let h = o * tanh_(c);
  let grow = (t * p.batch + b) * u4;
  gates[grow + j] = i;
  gates[grow + u + j] = f;
  gates[grow + 2u * u + j] = g;
  gates[grow + 3u * u + j] = o;
  cs[((t + 1u) * p.batch + b) * u + j] = c;
  packed[(b * (p.time + 1u) + t) * u + j] = h;
  if (t + 1u < p.time) {
    hprev[(b * p.time + t + 1u) * u + j] = h;
  } else {
    packed[(b * (p.time + 1u) + p.time) * u + j] = c;
  }
}
`;

/**
 * Backward step t (from T−1 down to 0): dh = dy[:, t] + dz_{t+1}·Uᵀ, then dz_t and dc_{t−1}.
 * With p.final = 1 it only computes dh0 = dz_0·Uᵀ (the gradient of the initial h).
 */
export const LSTM_BACKWARD_WGSL = /* wgsl */ `
struct Params { batch: u32, time: u32, units: u32, t: u32, final_: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> rkT: array<f32>;
@group(0) @binding(2) var<storage, read> gates: array<f32>;
@group(0) @binding(3) var<storage, read> cs: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@group(0) @binding(5) var<storage, read_write> dc: array<f32>;
@group(0) @binding(6) var<storage, read_write> dh0: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;
${WGSL_MATH}
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // As forward: 16 units per workgroup, the dot product over 4u split in 16 slices (lid.y).
  let j = wid.x * 16u + lid.x;
  let b = wid.y;
  let u = p.units;
  let t = p.t;
  let live = j < u && b < p.batch;
  let u4 = 4u * u;
  var acc = 0.0;
  // dL/dh_t through the recurrence: Σ_k dz_{t+1}[b, k] · U[j, k] (rkT[k, j], coalesced over j).
  if (live && (p.final_ == 1u || t + 1u < p.time)) {
    var next = t + 1u;
    if (p.final_ == 1u) { next = 0u; }
    let row = (b * p.time + next) * u4;
    let chunk = (u4 + 15u) / 16u;
    let k0 = lid.y * chunk;
    let k1 = min(k0 + chunk, u4);
    for (var k = k0; k < k1; k++) {
      acc += dz[row + k] * rkT[k * u + j];
    }
  }
  part[lid.y * 16u + lid.x] = acc;
  workgroupBarrier();
  if (!live || lid.y != 0u) { return; }
  var dhn = 0.0;
  for (var s = 0u; s < 16u; s++) { dhn += part[s * 16u + lid.x]; }
  if (p.final_ == 1u) {
    dh0[b * u + j] = dhn;
    return;
  }
  let dh = dy[(b * (p.time + 1u) + t) * u + j] + dhn;
  var dcin: f32;
  if (t + 1u == p.time) {
    dcin = dy[(b * (p.time + 1u) + p.time) * u + j];
  } else {
    dcin = dc[b * u + j];
  }
  let grow = (t * p.batch + b) * u4;
  let i = gates[grow + j];
  let f = gates[grow + u + j];
  let g = gates[grow + 2u * u + j];
  let o = gates[grow + 3u * u + j];
  let tc = tanh_(cs[((t + 1u) * p.batch + b) * u + j]);
  let cprev = cs[(t * p.batch + b) * u + j];
  let dcv = dcin + dh * o * (1.0 - tc * tc);
  let zrow = (b * p.time + t) * u4;
  dz[zrow + j] = dcv * g * i * (1.0 - i);
  dz[zrow + u + j] = dcv * cprev * f * (1.0 - f);
  dz[zrow + 2u * u + j] = dcv * i * (1.0 - g * g);
  dz[zrow + 3u * u + j] = dh * tc * o * (1.0 - o);
  dc[b * u + j] = dcv * f;
}
`;
