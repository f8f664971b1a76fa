import { numbered, WGSL_MATH, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * The WGSL of the grouped LoRA kernels (lora-group.ts): the forward shader (the backward ones are
 * in lora-group-backward-wgsl.ts), generated for a {@link GroupVariant}, so the work around a group
 * (the RMSNorm before it, SwiGLU or a residual add after it) runs inside its dispatches rather than
 * in dispatches of its own.
 */

/** The most projections in one group (the uniform block holds four sizes and scales). */
export const MAX_GROUP = 4;

/** Workgroup slots for a row's down-projections x·A_qᵀ in the forward kernel: ranks up to this. */
export const XA_SLOTS = 256;

/**
 * The widest input row the forward kernel keeps in workgroup memory (8 KB): read once from the
 * buffer (and normalized once) rather than once per output column. Wider rows are read in place.
 */
export const XROW_SLOTS = 2048;

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
   * that its gradient from there joins the norm's in the norm's backward (which then binds it).
   */
  passInput: boolean;
}

export const PARAMS =
  'struct Params { rows: u32, inF: u32, r: u32, n: u32, outs: vec4<u32>, scales: vec4<f32>, eps: f32 }';

/** `fn read_<name>(p, i)`: element i of buffer <name><p> (WGSL cannot index bindings at run time). */
export function reader(name: string, n: number): string {
  const cases = Array.from({ length: n }, (_, p) => `case ${p}u: { return ${name}${p}[i]; }`).join(' ');
  return `fn read_${name}(p: u32, i: u32) -> f32 { switch p { ${cases} default: { return 0.0; } } }`;
}

/** `fn write_<name>(p, i, v)`. */
export function writer(name: string, n: number): string {
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

/**
 * The forward kernel's outputs, in binding order: every y_q (for SwiGLU `gu` instead, see
 * {@link SWIGLU_EPILOGUE}, then silu(gate)·up), the down-projections, x̂.
 */
export function forwardOutputs(v: GroupVariant): string[] {
  return [...(v.swiglu ? ['gu', 'act'] : numbered('y', v.n)), 'downs', ...(v.norm ? ['xn'] : [])];
}

/**
 * WGSL, SwiGLU after gate g and up u (`ys`): act = g·σ(g)·u, and for the backward pass the two
 * derivatives ∂act/∂g = u·σ(g)·(1 + g·(1 − σ(g))) and ∂act/∂u = g·σ(g) side by side in `gu`
 * [rows, 2, out] (one buffer, one binding): the backward kernels read each dy many times (once
 * per column of x), and this way each read is a product, not an exp.
 */
const SWIGLU_EPILOGUE = `if (j < p.outs[0]) {
    let out = p.outs[0];
    let g = ys[0];
    let s = sigmoid_(g);
    gu[i * 2u * out + j] = ys[1] * s * (1.0 + g * (1.0 - s));
    gu[(i * 2u + 1u) * out + j] = g * s;
    act[i * out + j] = g * s * ys[1];
  }`;

/**
 * y_q[i, j] = Σ_k x̂[i, k]·W_q[j, k] + s_q·Σ_l downs[i, q·r + l]·B_q[j, l] (+ res[i, j]), with
 * downs[i, q·r + l] = Σ_k x̂[i, k]·A_q[l, k] computed by the same workgroup (x over 64 columns of
 * y, y over rows, z over q, or every q in one thread for SwiGLU, which needs both at (i, j)): a
 * row's down-projection is r·in multiply-adds, cheap next to 64·in for the tile, so recomputing it
 * per tile saves a dispatch. With the norm every workgroup also reduces its row's mean(x²).
 * Column tile 0 writes downs (and x̂) for the backward pass.
 */
export function forwardShader(v: GroupVariant, staged = false): string {
  const read = v.norm ? '(x[xb + k] * rs * nw[k])' : 'x[xb + k]';
  const xv = staged ? 'xrow[k]' : read;
  const norm = v.norm
    ? `var ss = 0.0;
  for (var k = lid; k < p.inF; k += 64u) { let e = x[xb + k]; ss += e * e; }
  ${wgslWorkgroupReduce(64, [{ shared: 'partial', value: 'ss' }])}
  let rs = inverseSqrt(partial[0] / f32(p.inF) + p.eps);
  if (wid.x == 0u && wid.z == 0u) { for (var k = lid; k < p.inF; k += 64u) { xn[xb + k] = ${read}; } }`
    : '';
  const stage = staged
    ? `for (var k = lid; k < p.inF; k += 64u) { xrow[k] = ${read}; }
  workgroupBarrier();`
    : '';
  return /* wgsl */ `${PARAMS}
${wgslBindings(forwardInputs(v), forwardOutputs(v))}
${reader('W', v.n)}
${reader('A', v.n)}
${reader('B', v.n)}
${v.swiglu ? '' : writer('y', v.n)}
${WGSL_MATH}
var<workgroup> xa: array<f32, ${XA_SLOTS}>;
var<workgroup> partial: array<f32, 64>;
${staged ? `var<workgroup> xrow: array<f32, ${XROW_SLOTS}>;` : ''}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.y;
  let xb = i * p.inF;
  ${norm}
  ${stage}
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
    ${v.swiglu ? '' : 'write_y(q, i * out + j, y);'}
    if (q < 2u) { ys[q] = y; }
  }
  ${v.swiglu ? SWIGLU_EPILOGUE : ''}
}
`;
}
