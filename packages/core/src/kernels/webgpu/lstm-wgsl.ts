import { WGSL_MATH } from './runner.js';

/**
 * WGSL for the fused LSTM, one dispatch per time step each way. Keras gate order (i, f, c, o);
 * one thread per (unit j, batch row b); workgroups of 64 units × 1 row.
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
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let b = gid.y;
  let u = p.units;
  let t = p.t;
  if (j >= u || b >= p.batch) { return; }
  let u4 = 4u * u;
  let xrow = (b * p.time + t) * u4;
  var zi = xp[xrow + j];
  var zf = xp[xrow + u + j];
  var zc = xp[xrow + 2u * u + j];
  var zo = xp[xrow + 3u * u + j];
  var cprev: f32;
  if (t == 0u) {
    // h_{−1} = h0: read the input (this dispatch writes hprev's row 0 for the backward pass).
    for (var k = 0u; k < u; k++) {
      let hk = h0[b * u + k];
      let r = k * u4 + j;
      zi += hk * rk[r]; zf += hk * rk[r + u]; zc += hk * rk[r + 2u * u]; zo += hk * rk[r + 3u * u];
    }
    cprev = c0[b * u + j];
    cs[b * u + j] = cprev;
    hprev[(b * p.time) * u + j] = h0[b * u + j];
  } else {
    let hrow = (b * p.time + t) * u;
    for (var k = 0u; k < u; k++) {
      let hk = hprev[hrow + k];
      let r = k * u4 + j;
      zi += hk * rk[r]; zf += hk * rk[r + u]; zc += hk * rk[r + 2u * u]; zo += hk * rk[r + 3u * u];
    }
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
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let b = gid.y;
  let u = p.units;
  let t = p.t;
  if (j >= u || b >= p.batch) { return; }
  let u4 = 4u * u;
  var dhn = 0.0;
  // dL/dh_t through the recurrence: Σ_k dz_{t+1}[b, k] · U[j, k] (rkT[k, j], coalesced over j).
  if (p.final_ == 1u || t + 1u < p.time) {
    var next = t + 1u;
    if (p.final_ == 1u) { next = 0u; }
    let row = (b * p.time + next) * u4;
    for (var k = 0u; k < u4; k++) {
      dhn += dz[row + k] * rkT[k * u + j];
    }
  }
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
