import { numbered, WGSL_MATH, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * The WGSL of the grouped LoRA kernels (lora-group.ts): one forward shader and two backward, each
 * generated for a {@link GroupVariant}, so the work around a group (the RMSNorm before it, SwiGLU or
 * a residual add after it) runs inside its dispatches rather than in dispatches of its own.
 */

/** The most projections in one group (the uniform block holds four sizes and scales). */
export const MAX_GROUP = 4;

/** Workgroup slots for a row's down-projections x·A_qᵀ in the forward kernel: ranks up to this. */
export const XA_SLOTS = 256;

/** What a group computes besides its projections y_q = x·W_qᵀ + s_q·(x·A_qᵀ)·B_qᵀ. */
export interface GroupVariant {
  /** Projections in the group. */
  n: number;
  /** x is first normalized, x̂ = x / √(mean(x²) + ε) · w (RMSNorm over the row). */
  norm: boolean;
  /** One projection, plus a residual: y = res + x·Wᵀ + …. */
  residual: boolean;
  /** Two projections (gate, up), and the result is silu(y_0)·y_1. */
  swiglu: boolean;
  /**
   * With the norm: x itself is an output too (the same buffer, no copy), for the residual add, so
   * that its gradient from there joins the norm's in the norm's backward kernel. No other shader text.
   */
  passInput: boolean;
}

export const PARAMS =
  'struct Params { rows: u32, inF: u32, r: u32, n: u32, outs: vec4<u32>, scales: vec4<f32>, eps: f32 }';

/** `fn read_<name>(p, i)`: element i of buffer <name><p> (WGSL cannot index bindings at run time). */
function reader(name: string, n: number): string {
  const cases = Array.from({ length: n }, (_, p) => `case ${p}u: { return ${name}${p}[i]; }`).join(' ');
  return `fn read_${name}(p: u32, i: u32) -> f32 { switch p { ${cases} default: { return 0.0; } } }`;
}

/** `fn write_<name>(p, i, v)`. */
function writer(name: string, n: number): string {
  const cases = Array.from({ length: n }, (_, p) => `case ${p}u: { ${name}${p}[i] = v; }`).join(' ');
  return `fn write_${name}(p: u32, i: u32, v: f32) { switch p { ${cases} default: {} } }`;
}

/** The forward kernel's read-only buffers, in binding order. */
export function forwardInputs(v: GroupVariant): string[] {
  return [
    'x',
    ...(v.norm ? ['nw'] : []),
    ...numbered('W', v.n),
    ...numbered('A', v.n),
    ...numbered('B', v.n),
    ...(v.residual ? ['res'] : []),
  ];
}

/** The forward kernel's outputs, in binding order: every y_q, silu(y_0)·y_1, the down-projections, x̂. */
export function forwardOutputs(v: GroupVariant): string[] {
  return [...numbered('y', v.n), ...(v.swiglu ? ['act'] : []), 'downs', ...(v.norm ? ['xn'] : [])];
}

/**
 * y_q[i, j] = Σ_k x̂[i, k]·W_q[j, k] + s_q·Σ_l downs[i, q·r + l]·B_q[j, l] (+ res[i, j]), with
 * downs[i, q·r + l] = Σ_k x̂[i, k]·A_q[l, k] computed by the same workgroup (x over 64 columns of
 * y, y over rows, z over q, or every q in one thread for SwiGLU, which needs both at (i, j)): a
 * row's down-projection is r·in multiply-adds, cheap next to 64·in for the tile, so recomputing it
 * per tile saves a dispatch. With the norm every workgroup also reduces its row's mean(x²).
 * Column tile 0 writes downs (and x̂) for the backward pass.
 */
export function forwardShader(v: GroupVariant): string {
  const xv = v.norm ? '(x[xb + k] * rs * nw[k])' : 'x[xb + k]';
  const norm = v.norm
    ? `var ss = 0.0;
  for (var k = lid; k < p.inF; k += 64u) { let e = x[xb + k]; ss += e * e; }
  ${wgslWorkgroupReduce(64, [{ shared: 'partial', value: 'ss' }])}
  let rs = inverseSqrt(partial[0] / f32(p.inF) + p.eps);
  if (wid.x == 0u && wid.z == 0u) { for (var k = lid; k < p.inF; k += 64u) { xn[xb + k] = ${xv}; } }`
    : '';
  return /* wgsl */ `${PARAMS}
${wgslBindings(forwardInputs(v), forwardOutputs(v))}
${reader('W', v.n)}
${reader('A', v.n)}
${reader('B', v.n)}
${writer('y', v.n)}
${WGSL_MATH}
var<workgroup> xa: array<f32, ${XA_SLOTS}>;
var<workgroup> partial: array<f32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.y;
  let xb = i * p.inF;
  ${norm}
  let q0 = ${v.swiglu ? '0u' : 'wid.z'};
  let q1 = ${v.swiglu ? 'p.n' : 'wid.z + 1u'};
  for (var t = lid; t < (q1 - q0) * p.r; t += 64u) {
    let q = q0 + t / p.r;
    let l = t % p.r;
    var a = 0.0;
    for (var k = 0u; k < p.inF; k++) { a += ${xv} * read_A(q, l * p.inF + k); }
    xa[t] = a;
    if (wid.x == 0u) { downs[i * p.n * p.r + q * p.r + l] = a; }
  }
  workgroupBarrier();
  let j = wid.x * 64u + lid;
  var ys = vec2<f32>(0.0, 0.0);
  for (var q = q0; q < q1; q++) {
    let out = p.outs[q];
    if (j >= out) { continue; }
    var a = 0.0;
    for (var k = 0u; k < p.inF; k++) { a += ${xv} * read_W(q, j * p.inF + k); }
    var b = 0.0;
    let d = (q - q0) * p.r;
    for (var l = 0u; l < p.r; l++) { b += xa[d + l] * read_B(q, j * p.r + l); }
    var y = a + p.scales[q] * b;
    ${v.residual ? 'y += res[i * out + j];' : ''}
    write_y(q, i * out + j, y);
    if (q < 2u) { ys[q] = y; }
  }
  ${v.swiglu ? 'if (j < p.outs[0]) { act[i * p.outs[0] + j] = ys[0] * sigmoid_(ys[0]) * ys[1]; }' : ''}
}
`;
}

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
const DXN = `var a = 0.0;
    for (var q = 0u; q < p.n; q++) {
      let out = p.outs[q];
      for (var j = 0u; j < out; j++) { a += read_dy(q, row * out + j) * read_W(q, j * p.inF + k); }
      let d = row * nr + q * p.r;
      for (var l = 0u; l < p.r; l++) { a += ddowns[d + l] * read_A(q, l * p.inF + k); }
    }`;

/**
 * z = 0, `inline`: a workgroup per row (x = 0) takes the gradient at x̂ through the RMSNorm too,
 * dx = r·w·dxn − h·r³/in·Σ_k dxn·w·h (+ the passed input's gradient), r from the row's mean(h²):
 * a dispatch fewer than the norm's own kernel after. dxn waits in dx between the two loops.
 */
function normInlineRows(v: GroupVariant): string {
  return `if (wid.x != 0u || wid.y >= p.rows) { return; }
    let row = wid.y;
    var s = 0.0;
    var ss = 0.0;
    for (var k = lid; k < p.inF; k += 64u) {
      ${DXN}
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
    ? normInlineRows(v)
    : `let k = gid.x;
    let row = gid.y;
    if (k >= p.inF || row >= p.rows) { return; }
    ${DXN}
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
