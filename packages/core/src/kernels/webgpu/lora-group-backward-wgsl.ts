import { type GroupVariant, PARAMS, reader, writer, XA_SLOTS } from './lora-group-wgsl.js';
import { numbered, WGSL_MATH, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * The grouped LoRA kernels' backward WGSL (lora-group.ts), for a {@link GroupVariant}: one kernel
 * where its buffers fit in the device's limit (a group of one projection: o_proj, down_proj), else
 * two (q/k/v, gate/up on llvmpipe's 16 storage buffers):
 * - {@link backwardShader}: x's gradient row by row (each row's down-projection gradient in
 *   workgroup memory), every dB and every dA side by side;
 * - {@link ddownDbShader} then {@link dxDaShader}: the down-projections' gradient with every dB,
 *   then x's gradient with every dA.
 * The RMSNorm's backward goes into x's gradient too where the buffers allow (`inline`).
 */

/**
 * The backward kernels' view of the output gradients: `read_dy(q, i)`, from dy_q, or for SwiGLU
 * from d(act) and the saved gate and up (silu's derivative σ(g)·(1 + g·(1 − σ(g)))).
 */
function gradientOfOutputs(v: GroupVariant): { buffers: string[]; code: string } {
  if (!v.swiglu) return { buffers: numbered('dy', v.n), code: reader('dy', v.n) };
  return {
    buffers: ['dact', 'gate', 'up'],
    code: `${WGSL_MATH}
fn read_dy(q: u32, i: u32) -> f32 {
  let g = gate[i];
  let s = sigmoid_(g);
  if (q == 0u) { return dact[i] * up[i] * s * (1.0 + g * (1.0 - s)); }
  return dact[i] * g * s;
}`,
  };
}

/** The first backward kernel's read-only buffers. */
export function ddownDbInputs(v: GroupVariant): string[] {
  return [...gradientOfOutputs(v).buffers, ...numbered('B', v.n), 'downs'];
}

/**
 * z = 0: ddowns[i, q·r + l] = s_q·Σ_j dy_q[i, j]·B_q[j, l] (thread x over N·r, y over rows);
 * z = 1 + q: dB_q[j, l] = s_q·Σ_i dy_q[i, j]·downs[i, q·r + l] (x over r, y over out_q).
 */
export function ddownDbShader(v: GroupVariant): string {
  const n = v.n;
  return /* wgsl */ `${PARAMS}
${wgslBindings(ddownDbInputs(v), ['ddowns', ...numbered('dB', n)])}
${gradientOfOutputs(v).code}
${reader('B', n)}
${writer('dB', n)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let row = gid.y;
  let nr = p.n * p.r;
  if (gid.z == 0u) {
    if (col >= nr || row >= p.rows) { return; }
    let q = col / p.r;
    let l = col % p.r;
    let out = p.outs[q];
    var a = 0.0;
    for (var j = 0u; j < out; j++) { a += read_dy(q, row * out + j) * read_B(q, j * p.r + l); }
    ddowns[row * nr + col] = p.scales[q] * a;
  } else {
    let q = gid.z - 1u;
    let out = p.outs[q];
    if (col >= p.r || row >= out) { return; }
    var a = 0.0;
    for (var i = 0u; i < p.rows; i++) { a += read_dy(q, i * out + row) * downs[i * nr + q * p.r + col]; }
    write_dB(q, row * p.r + col, p.scales[q] * a);
  }
}
`;
}

/** The second backward kernel's read-only buffers (x is x̂ with the norm; h the norm's input when `inline`). */
export function dxDaInputs(v: GroupVariant, inline = false): string[] {
  const norm = inline ? ['h', 'nw', ...(v.passInput ? ['dpass'] : [])] : [];
  return [...gradientOfOutputs(v).buffers, ...numbered('W', v.n), 'ddowns', ...numbered('A', v.n), 'x', ...norm];
}

/** The second backward kernel's outputs: dx and every dA_q. */
export function dxDaOutputs(v: GroupVariant): string[] {
  return ['dx', ...numbered('dA', v.n)];
}

/** WGSL: dxn = Σ_q (Σ_j dy_q[row, j]·W_q[j, k] + Σ_l ddowns[row, q·r + l]·A_q[l, k]) at (row, k). */
/**
 * WGSL: `a` = dxn = Σ_q (Σ_j dy_q[row, j]·W_q[j, k] + Σ_l ddowns[row, q·r + l]·A_q[l, k]) at
 * (row, k), the row's down-projection gradient read from `ddowns` (global) or `sdd` (this
 * workgroup's copy of the row).
 */
function dxn(from: 'ddowns' | 'sdd'): string {
  const d = from === 'ddowns' ? 'row * nr + q * p.r' : 'q * p.r';
  return `var a = 0.0;
    for (var q = 0u; q < p.n; q++) {
      let out = p.outs[q];
      for (var j = 0u; j < out; j++) { a += read_dy(q, row * out + j) * read_W(q, j * p.inF + k); }
      let d = ${d};
      for (var l = 0u; l < p.r; l++) { a += ${from}[d + l] * read_A(q, l * p.inF + k); }
    }`;
}

/**
 * z = 0, `inline`: a workgroup per row (x = 0) takes the gradient at x̂ through the RMSNorm too,
 * dx = r·w·dxn − h·r³/in·Σ_k dxn·w·h (+ the passed input's gradient), r from the row's mean(h²):
 * a dispatch fewer than the norm's own kernel after. dxn waits in dx between the two loops.
 */
function normInlineRows(v: GroupVariant, from: 'ddowns' | 'sdd'): string {
  return `var s = 0.0;
    var ss = 0.0;
    for (var k = lid; k < p.inF; k += 64u) {
      ${dxn(from)}
      let e = row * p.inF + k;
      dx[e] = a;
      s += a * nw[k] * h[e];
      ss += h[e] * h[e];
    }
    ${wgslWorkgroupReduce(64, [
      { shared: 'partial', value: 's' },
      { shared: 'squares', value: 'ss' },
    ])}
    let rs = inverseSqrt(squares[0] / f32(p.inF) + p.eps);
    let c = partial[0] * rs * rs * rs / f32(p.inF);
    for (var k = lid; k < p.inF; k += 64u) {
      let e = row * p.inF + k;
      dx[e] = rs * nw[k] * dx[e] - h[e] * c${v.passInput ? ' + dpass[e]' : ''};
    }
    return;`;
}

/**
 * z = 0: dx[i, k] = Σ_q (Σ_j dy_q[i, j]·W_q[j, k] + Σ_l ddowns[i, q·r + l]·A_q[l, k]) (x over in, y
 * over rows): x's gradient summed over the projections (through the norm with `inline`);
 * z = 1 + q: dA_q[l, k] = Σ_i ddowns[i, q·r + l]·x[i, k] (x over in, y over r).
 */
export function dxDaShader(v: GroupVariant, inline = false): string {
  const n = v.n;
  const rows = inline
    ? `if (wid.x != 0u || wid.y >= p.rows) { return; }
    let row = wid.y;
    ${normInlineRows(v, 'ddowns')}`
    : `let k = gid.x;
    let row = gid.y;
    if (k >= p.inF || row >= p.rows) { return; }
    ${dxn('ddowns')}
    dx[row * p.inF + k] = a;
    return;`;
  return /* wgsl */ `${PARAMS}
${wgslBindings(dxDaInputs(v, inline), dxDaOutputs(v))}
${gradientOfOutputs(v).code}
${reader('W', n)}
${reader('A', n)}
${writer('dA', n)}
var<workgroup> partial: array<f32, 64>;
var<workgroup> squares: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let nr = p.n * p.r;
  if (wid.z == 0u) {
    ${rows}
  }
  let k = gid.x;
  let q = gid.z - 1u;
  let row = gid.y;
  if (k >= p.inF || row >= p.r) { return; }
  var a = 0.0;
  for (var i = 0u; i < p.rows; i++) { a += ddowns[i * nr + q * p.r + row] * x[i * p.inF + k]; }
  write_dA(q, row * p.inF + k, a);
}
`;
}

/** The one-kernel backward's read-only buffers (x is x̂ with the norm; h the norm's input when `inline`). */
export function backwardInputs(v: GroupVariant, inline = false): string[] {
  const norm = inline ? ['h', 'nw', ...(v.passInput ? ['dpass'] : [])] : [];
  const n = v.n;
  return [
    ...gradientOfOutputs(v).buffers,
    ...numbered('B', n),
    ...numbered('W', n),
    ...numbered('A', n),
    'downs',
    'x',
    ...norm,
  ];
}

/** The one-kernel backward's outputs: dx, every dA_q, every dB_q. */
export function backwardOutputs(v: GroupVariant): string[] {
  return ['dx', ...numbered('dA', v.n), ...numbered('dB', v.n)];
}

/**
 * The whole backward pass of a group in one dispatch, three kinds of workgroup side by side (z):
 * - z = 0, a workgroup per row (x = 0): the row's ddowns[q·r + l] = s_q·Σ_j dy_q[row, j]·B_q[j, l]
 *   into workgroup memory, then dx for the row (through the norm with `inline`);
 * - z = 1 + q: dB_q[j, l] = s_q·Σ_i dy_q[i, j]·downs[i, q·r + l] (x over r, y over out_q);
 * - z = 1 + n + q: dA_q[l, k] = Σ_i ddowns[i, q·r + l]·x[i, k] (x over 64 columns k, y over l),
 *   ddowns[·, l] recomputed 64 rows at a time by the workgroup: r/64 of the dx products again,
 *   where two kernels would store ddowns and wait for all of it.
 */
export function backwardShader(v: GroupVariant, inline = false): string {
  const n = v.n;
  const rows = inline
    ? normInlineRows(v, 'sdd')
    : `for (var k = lid; k < p.inF; k += 64u) {
      ${dxn('sdd')}
      dx[row * p.inF + k] = a;
    }
    return;`;
  return /* wgsl */ `${PARAMS}
${wgslBindings(backwardInputs(v, inline), backwardOutputs(v))}
${gradientOfOutputs(v).code}
${reader('B', n)}
${reader('W', n)}
${reader('A', n)}
${writer('dA', n)}
${writer('dB', n)}
var<workgroup> sdd: array<f32, ${XA_SLOTS}>;
var<workgroup> partial: array<f32, 64>;
var<workgroup> squares: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let nr = p.n * p.r;
  if (wid.z == 0u) {
    if (wid.x != 0u || wid.y >= p.rows) { return; }
    let row = wid.y;
    for (var t = lid; t < nr; t += 64u) {
      let q = t / p.r;
      let l = t % p.r;
      let out = p.outs[q];
      var a = 0.0;
      for (var j = 0u; j < out; j++) { a += read_dy(q, row * out + j) * read_B(q, j * p.r + l); }
      sdd[t] = p.scales[q] * a;
    }
    workgroupBarrier();
    ${rows}
  }
  if (wid.z <= p.n) {
    let q = wid.z - 1u;
    let out = p.outs[q];
    let col = gid.x;
    let row = gid.y;
    // No early return per thread: the dA branch below must stay in uniform control flow.
    if (col < p.r && row < out) {
      var a = 0.0;
      for (var i = 0u; i < p.rows; i++) { a += read_dy(q, i * out + row) * downs[i * nr + q * p.r + col]; }
      write_dB(q, row * p.r + col, p.scales[q] * a);
    }
    return;
  }
  let q = wid.z - 1u - p.n;
  let l = wid.y;
  if (l >= p.r) { return; }
  let out = p.outs[q];
  let k = wid.x * 64u + lid;
  var acc = 0.0;
  for (var i0 = 0u; i0 < p.rows; i0 += 64u) {
    let i = i0 + lid;
    var a = 0.0;
    if (i < p.rows) { for (var j = 0u; j < out; j++) { a += read_dy(q, i * out + j) * read_B(q, j * p.r + l); } }
    sdd[lid] = p.scales[q] * a;
    workgroupBarrier();
    if (k < p.inF) {
      let m = min(64u, p.rows - i0);
      for (var t = 0u; t < m; t++) { acc += sdd[t] * x[(i0 + t) * p.inF + k]; }
    }
    workgroupBarrier();
  }
  if (k < p.inF) { write_dA(q, l * p.inF + k, acc); }
}
`;
}
