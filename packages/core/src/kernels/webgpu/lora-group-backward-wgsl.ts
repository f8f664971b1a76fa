import { type GroupVariant, PARAMS, reader, writer, XA_SLOTS } from './lora-group-wgsl.js';
import { numbered, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * The grouped LoRA kernels' backward WGSL (lora-group.ts), for a {@link GroupVariant}: one kernel
 * where its buffers fit in the device's limit (a group of one projection: o_proj, down_proj), else
 * two (q/k/v, gate/up on llvmpipe's 16 storage buffers):
 * - {@link backwardShader}: x's gradient row by row (each row's down-projection gradient in
 *   workgroup memory), every dB and every dA side by side;
 * - {@link weightsShader} then {@link inputShader}: the down-projections' gradient, every dB and
 *   every dA; then x's gradient from the stored down-projections' gradient.
 * dA recomputes the down-projections' gradient 64 rows at a time rather than wait for all of it
 * (r/64 of x's gradient's products again). The RMSNorm's backward goes into x's gradient too
 * where the buffers allow (`inline`).
 */

/**
 * The backward kernels' view of the output gradients: `dy_at(q, i, j)` = dy_q[i, j], from dy_q, or
 * for SwiGLU from d(act) times SwiGLU's derivatives the forward kept (`gu` [rows, 2, out],
 * lora-group-wgsl.ts). Row and column apart: no division in the kernels' innermost loops.
 */
function gradientOfOutputs(v: GroupVariant): { buffers: string[]; code: string } {
  if (!v.swiglu) {
    return {
      buffers: numbered('dy', v.n),
      code: `${reader('dy', v.n)}
fn dy_at(q: u32, i: u32, j: u32) -> f32 { return read_dy(q, i * p.outs[q] + j); }`,
    };
  }
  return {
    buffers: ['dact', 'gu'],
    code: `fn dy_at(q: u32, i: u32, j: u32) -> f32 {
  let o = p.outs[0];
  return dact[i * o + j] * gu[(i * 2u + q) * o + j];
}`,
  };
}

/** The norm's inputs to x's gradient with `inline`: its input h, its weight, the passed input's gradient. */
function normInputs(v: GroupVariant, inline: boolean): string[] {
  return inline ? ['h', 'nw', ...(v.passInput ? ['dpass'] : [])] : [];
}

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
      for (var j = 0u; j < out; j++) { a += dy_at(q, row, j) * read_W(q, j * p.inF + k); }
      let d = ${d};
      for (var l = 0u; l < p.r; l++) { a += ${from}[d + l] * read_A(q, l * p.inF + k); }
    }`;
}

/**
 * WGSL, a workgroup owning `row`: dx for every k through the RMSNorm,
 * dx = r·w·dxn − h·r³/in·Σ_k dxn·w·h (+ the passed input's gradient), r from the row's mean(h²),
 * a dispatch fewer than the norm's own kernel after (dxn waits in dx between the two loops). The
 * sum over the row is why a workgroup owns a whole row here, where x's gradient without the norm
 * is split 64 columns a workgroup.
 */
function normRowGradient(v: GroupVariant, from: 'ddowns' | 'sdd'): string {
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

/** WGSL, z = `dbZ` + q: dB_q[j, l] = s_q·Σ_i dy_q[i, j]·downs[i, q·r + l] (x over r, y over out_q). */
function dbPart(dbZ: string): string {
  return `let q = wid.z - ${dbZ};
    let out = p.outs[q];
    let col = gid.x;
    let row = gid.y;
    // No early return per thread: the dA part must stay in uniform control flow.
    if (col < p.r && row < out) {
      var a = 0.0;
      for (var i = 0u; i < p.rows; i++) { a += dy_at(q, i, row) * downs[i * nr + q * p.r + col]; }
      write_dB(q, row * p.r + col, p.scales[q] * a);
    }
    return;`;
}

/**
 * WGSL, z = `dbZ` + q: dB_q[j, l] = s_q·Σ_i dy_q[i, j]·downs[i, q·r + l] (a workgroup per 64 rows j
 * of B and one l), downs[·, l] = Σ_k x[·, k]·A_q[l, k] recomputed 64 rows at a time in `sdd` (no
 * downs bound: r/64 of x's gradient's products again). `normed` as {@link daPart}.
 */
function dbRecomputed(dbZ: string, normed: boolean): string {
  const down = normed
    ? `var ss = 0.0;
      for (var c = 0u; c < p.inF; c++) { let e = h[i * p.inF + c]; ss += e * e; }
      let rs = inverseSqrt(ss / f32(p.inF) + p.eps);
      for (var k = 0u; k < p.inF; k++) { a += (h[i * p.inF + k] * rs * nw[k]) * read_A(q, l * p.inF + k); }`
    : 'for (var k = 0u; k < p.inF; k++) { a += x[i * p.inF + k] * read_A(q, l * p.inF + k); }';
  return `let q = wid.z - ${dbZ};
    let l = wid.y;
    if (l >= p.r) { return; }
    let out = p.outs[q];
    let j = wid.x * 64u + lid;
    var acc = 0.0;
    for (var i0 = 0u; i0 < p.rows; i0 += 64u) {
      let i = i0 + lid;
      var a = 0.0;
      if (i < p.rows) {
        ${down}
      }
      sdd[lid] = a;
      workgroupBarrier();
      if (j < out) {
        let m = min(64u, p.rows - i0);
        for (var t = 0u; t < m; t++) { acc += dy_at(q, i0 + t, j) * sdd[t]; }
      }
      workgroupBarrier();
    }
    if (j < out) { write_dB(q, j * p.r + l, p.scales[q] * acc); }
    return;`;
}

/**
 * WGSL, z = `daZ` + q: dA_q[l, k] = Σ_i ddowns[i, q·r + l]·x[i, k] (a workgroup per 64 columns k
 * and one l), ddowns[·, l] = s_q·Σ_j dy_q[·, j]·B_q[j, l] recomputed 64 rows at a time in `sdd`.
 * `normed`: x̂ = h·r·w from the norm's input, each row's r recomputed beside its ddowns (no x̂ bound).
 */
function daPart(daZ: string, normed = false): string {
  const x = normed ? '(h[(i0 + t) * p.inF + k] * rr[t] * nw[k])' : 'x[(i0 + t) * p.inF + k]';
  const r = normed
    ? `var ss = 0.0;
    if (i < p.rows) { for (var c = 0u; c < p.inF; c++) { let e = h[i * p.inF + c]; ss += e * e; } }
    rr[lid] = inverseSqrt(ss / f32(p.inF) + p.eps);`
    : '';
  return `let q = wid.z - ${daZ};
  let l = wid.y;
  if (l >= p.r) { return; }
  let out = p.outs[q];
  let k = wid.x * 64u + lid;
  var acc = 0.0;
  for (var i0 = 0u; i0 < p.rows; i0 += 64u) {
    let i = i0 + lid;
    var a = 0.0;
    if (i < p.rows) { for (var j = 0u; j < out; j++) { a += dy_at(q, i, j) * read_B(q, j * p.r + l); } }
    sdd[lid] = p.scales[q] * a;
    ${r}
    workgroupBarrier();
    if (k < p.inF) {
      let m = min(64u, p.rows - i0);
      for (var t = 0u; t < m; t++) { acc += sdd[t] * ${x}; }
    }
    workgroupBarrier();
  }
  if (k < p.inF) { write_dA(q, l * p.inF + k, acc); }`;
}

/** Declarations every backward shader shares. */
function header(v: GroupVariant, inputs: string[], outputs: string[], readers: string[], writers: string[]): string {
  return `${PARAMS}
${wgslBindings(inputs, outputs)}
${gradientOfOutputs(v).code}
${readers.map((name) => reader(name, v.n)).join('\n')}
${writers.map((name) => writer(name, v.n)).join('\n')}
var<workgroup> sdd: array<f32, ${XA_SLOTS}>;
var<workgroup> partial: array<f32, 64>;
var<workgroup> squares: array<f32, 64>;
var<workgroup> rr: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let nr = p.n * p.r;`;
}

/** The one-kernel backward's read-only buffers (with the norm, its input h rather than x̂). */
export function backwardInputs(v: GroupVariant, inline = false): string[] {
  const n = v.n;
  const { buffers } = gradientOfOutputs(v);
  return [
    ...buffers,
    ...numbered('B', n),
    ...numbered('W', n),
    ...numbered('A', n),
    ...(inline ? normInputs(v, true) : ['x']),
  ];
}

/** The one-kernel backward's outputs: dx, every dA_q, every dB_q. */
export function backwardOutputs(v: GroupVariant): string[] {
  return ['dx', ...numbered('dA', v.n), ...numbered('dB', v.n)];
}

/**
 * The whole backward pass of a group in one dispatch, three kinds of workgroup side by side (z):
 * - z = 0, a workgroup per row and 64 columns of x (per row with the norm): the row's
 *   ddowns[q·r + l] = s_q·Σ_j dy_q[row, j]·B_q[j, l] into workgroup memory (r/64 of the tile's own
 *   products, again for each tile), then dx there;
 * - z = 1 + q: dB_q, z = 1 + n + q: dA_q, both recomputing what they need 64 rows at a time, so
 *   that neither the down-projections nor x̂ are bound (gate/up's fits in 16 buffers).
 */
export function backwardShader(v: GroupVariant, inline = false): string {
  return /* wgsl */ `${header(v, backwardInputs(v, inline), backwardOutputs(v), ['B', 'W', 'A'], ['dA', 'dB'])}
  if (wid.z == 0u) {
    if (${inline ? 'wid.x != 0u || ' : ''}wid.y >= p.rows) { return; }
    let row = wid.y;
    for (var t = lid; t < nr; t += 64u) {
      let q = t / p.r;
      let l = t % p.r;
      let out = p.outs[q];
      var a = 0.0;
      for (var j = 0u; j < out; j++) { a += dy_at(q, row, j) * read_B(q, j * p.r + l); }
      sdd[t] = p.scales[q] * a;
    }
    workgroupBarrier();
    ${
      inline
        ? normRowGradient(v, 'sdd')
        : `let k = wid.x * 64u + lid;
    if (k < p.inF) {
      ${dxn('sdd')}
      dx[row * p.inF + k] = a;
    }
    return;`
    }
  }
  if (wid.z <= p.n) {
    ${dbRecomputed('1u', inline)}
  }
  ${daPart('1u - p.n', inline)}
}
`;
}

/** The first of two backward kernels' read-only buffers. */
export function weightsInputs(v: GroupVariant): string[] {
  return [...gradientOfOutputs(v).buffers, ...numbered('B', v.n), 'downs', 'x'];
}

/** The first of two backward kernels' outputs: the down-projections' gradient, every dB_q, every dA_q. */
export function weightsOutputs(v: GroupVariant): string[] {
  return ['ddowns', ...numbered('dB', v.n), ...numbered('dA', v.n)];
}

/**
 * The first of two: z = 0, ddowns[i, q·r + l] = s_q·Σ_j dy_q[i, j]·B_q[j, l] (thread x over N·r,
 * y over rows), stored for {@link inputShader}; z = 1 + q: dB_q; z = 1 + n + q: dA_q.
 */
export function weightsShader(v: GroupVariant): string {
  return /* wgsl */ `${header(v, weightsInputs(v), weightsOutputs(v), ['B'], ['dA', 'dB'])}
  if (wid.z == 0u) {
    let col = gid.x;
    let row = gid.y;
    if (col < nr && row < p.rows) {
      let q = col / p.r;
      let l = col % p.r;
      let out = p.outs[q];
      var a = 0.0;
      for (var j = 0u; j < out; j++) { a += dy_at(q, row, j) * read_B(q, j * p.r + l); }
      ddowns[row * nr + col] = p.scales[q] * a;
    }
    return;
  }
  if (wid.z <= p.n) {
    ${dbPart('1u')}
  }
  ${daPart('1u - p.n')}
}
`;
}

/** The second of two backward kernels' read-only buffers. */
export function inputInputs(v: GroupVariant, inline = false): string[] {
  const { buffers } = gradientOfOutputs(v);
  return [...buffers, ...numbered('W', v.n), 'ddowns', ...numbered('A', v.n), ...normInputs(v, inline)];
}

/**
 * The second of two: dx[i, k] = Σ_q (Σ_j dy_q[i, j]·W_q[j, k] + Σ_l ddowns[i, q·r + l]·A_q[l, k]),
 * x's gradient summed over the projections: a thread per element, or with `inline` a workgroup
 * per row (y) that takes it through the RMSNorm too.
 */
export function inputShader(v: GroupVariant, inline = false): string {
  const body = inline
    ? `if (wid.x != 0u || wid.y >= p.rows) { return; }
  let row = wid.y;
  ${normRowGradient(v, 'ddowns')}`
    : `let k = gid.x;
  let row = gid.y;
  if (k >= p.inF || row >= p.rows) { return; }
  ${dxn('ddowns')}
  dx[row * p.inF + k] = a;`;
  return /* wgsl */ `${header(v, inputInputs(v, inline), ['dx'], ['W', 'A'], [])}
  ${body}
}
`;
}
