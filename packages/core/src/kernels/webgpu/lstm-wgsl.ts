import { WGSL_MATH, wgslBindings } from './wgsl.js';

/** The batch rows one workgroup covers. */
export const LSTM_ROWS = 8;

/** WGSL lines for each of the workgroup's batch rows, unrolled (an array indexed at run time could spill). */
function rows(line: (r: number) => string): string {
  return Array.from({ length: LSTM_ROWS }, (_, r) => line(r)).join('\n  ');
}

/** WGSL: this thread's unit j, its workgroup's first batch row b0 and row count, u, t and 4u. */
const BLOCK = `let j = wid.x * 8u + lid.x;
  let b0 = wid.y * 8u;
  let rows = min(8u, p.batch - b0);
  let u = p.units;
  let t = p.t;
  let u4 = 4u * u;`;

/**
 * WGSL: each batch row's 32 partial sums acc<r> (one per slice lid.y) added into `total` by thread
 * (x, y = row), row by row through workgroup memory (two halves, so one barrier per row).
 */
function sumSlicesInto(total: string): string {
  return rows(
    (r) => `part[${(r % 2) * 256}u + lid.y * 8u + lid.x] = acc${r};
  workgroupBarrier();
  if (lid.y == ${r}u) { for (var s = 0u; s < 32u; s++) { ${total} += part[${(r % 2) * 256}u + s * 8u + lid.x]; } }`,
  );
}

/**
 * WGSL for the fused LSTM, one dispatch per time step each way. Keras gate order (i, f, c, o).
 * A workgroup covers 8 units (lid.x) of up to 8 batch rows (wid.y picks the block of rows); its
 * 256 threads split each dot product 32 ways (lid.y): every recurrent weight a workgroup loads
 * serves all its batch rows (one read of U per step, not one per row), and 32 slices keep a GPU's
 * cores busy (one thread per unit would leave it mostly idle). The slices' partial sums meet in
 * workgroup memory one batch row at a time; thread (x, y = row) then does that row's gates.
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
${wgslBindings(['xp', 'rk', 'h0', 'c0'], ['packed', 'gates', 'cs', 'hprev'])}
${WGSL_MATH}
var<workgroup> part: array<vec4<f32>, 512>;
fn hAt(t: u32, i: u32) -> f32 {
  if (t == 0u) { return h0[i]; }
  return hprev[i];
}
@compute @workgroup_size(8, 32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  ${BLOCK}
  let chunk = (u + 31u) / 32u;
  let k0 = lid.y * chunk;
  let k1 = min(k0 + chunk, u);
  ${rows((r) => `var acc${r} = vec4<f32>(0.0);`)}
  if (j < u) {
    // h_{t−1}[b, k] of row b: h0 at t = 0, else hprev's row (b, t).
    var base = b0 * p.time * u + t * u;
    var stride = p.time * u;
    if (t == 0u) { base = b0 * u; stride = u; }
    for (var k = k0; k < k1; k++) {
      let r = k * u4 + j;
      let w = vec4<f32>(rk[r], rk[r + u], rk[r + 2u * u], rk[r + 3u * u]);
      ${rows((r) => `if (rows > ${r}u) { acc${r} += hAt(t, base + ${r}u * stride + k) * w; }`)}
    }
  }
  // Row by row through workgroup memory (two halves, so one barrier per row): thread y = row sums it.
  var z = vec4<f32>(0.0);
  ${sumSlicesInto('z')}
  let b = b0 + lid.y;
  if (j >= u || lid.y >= rows) { return; }
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
${wgslBindings(['dy', 'rkT', 'gates', 'cs'], ['dz', 'dc', 'dh0'])}
${WGSL_MATH}
var<workgroup> part: array<f32, 512>;
@compute @workgroup_size(8, 32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // As forward: 8 units × up to 8 batch rows per workgroup, the dot product over 4u in 32 slices.
  ${BLOCK}
  ${rows((r) => `var acc${r} = 0.0;`)}
  // dL/dh_t through the recurrence: Σ_k dz_{t+1}[b, k] · U[j, k] (rkT[k, j], coalesced over j).
  if (j < u && (p.final_ == 1u || t + 1u < p.time)) {
    var next = t + 1u;
    if (p.final_ == 1u) { next = 0u; }
    let chunk = (u4 + 31u) / 32u;
    let k0 = lid.y * chunk;
    let k1 = min(k0 + chunk, u4);
    let base = (b0 * p.time + next) * u4;
    let stride = p.time * u4;
    for (var k = k0; k < k1; k++) {
      let w = rkT[k * u + j];
      ${rows((r) => `if (rows > ${r}u) { acc${r} += dz[base + ${r}u * stride + k] * w; }`)}
    }
  }
  var dhn = 0.0;
  ${sumSlicesInto('dhn')}
  let b = b0 + lid.y;
  if (j >= u || lid.y >= rows) { return; }
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
