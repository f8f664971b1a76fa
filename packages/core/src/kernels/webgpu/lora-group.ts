import * as tf from '@tensorflow/tfjs';
import {
  allocate,
  dispatch,
  f32,
  fusedWebGPUFits,
  groups,
  pipelineFor,
  registerWebGPUKernel,
  toTensor,
  webgpuBackend,
  words,
} from './runner.js';

/**
 * Several LoRA projections of the same input, y_p = x·W_pᵀ + s_p·(x·A_pᵀ)·B_pᵀ (a layer's q, k and v,
 * or gate and up), in two WebGPU dispatches forward and three backward for the whole group, where
 * one projection at a time takes two and four each:
 * - forward: the down-projections x·A_pᵀ of all p side by side in one [rows, N·r] buffer, then
 *   every y_p (the grid's z picks p);
 * - backward: s_p·dy_p·B_p for all p (the gradient of the down-projections); dx summed over every
 *   projection in one pass (no adds of per-projection gradients); dA_p and dB_p of all p in one
 *   dispatch (z picks which of the 2N).
 * A thread per output element with plain loops, like the single projection's kernel. A shader binds
 * 3N + 3 storage buffers (12 for q, k, v): on a device with fewer, use one projection at a time.
 */

/** The most projections in one group (the uniform block holds four sizes and scales). */
export const MAX_GROUP = 4;

/** `fn read<Name>(p, i)`: element i of buffer <name><p> (WGSL cannot index bindings at run time). */
function reader(name: string, n: number): string {
  const cases = Array.from({ length: n }, (_, p) => `case ${p}u: { return ${name}${p}[i]; }`).join(' ');
  return `fn read_${name}(p: u32, i: u32) -> f32 { switch p { ${cases} default: { return 0.0; } } }`;
}

/** `fn write<Name>(p, i, v)`. */
function writer(name: string, n: number): string {
  const cases = Array.from({ length: n }, (_, p) => `case ${p}u: { ${name}${p}[i] = v; }`).join(' ');
  return `fn write_${name}(p: u32, i: u32, v: f32) { switch p { ${cases} default: {} } }`;
}

/** Bindings from 0 in order: `[name, count, access]`; count 0 is one buffer named as is, else `<name>0…`. */
function bindings(list: [string, number, 'read' | 'read_write'][]): string {
  const lines: string[] = [];
  let b = 0;
  for (const [name, count, access] of list) {
    const ids = count === 0 ? [name] : Array.from({ length: count }, (_, q) => `${name}${q}`);
    for (const id of ids) lines.push(`@group(0) @binding(${b++}) var<storage, ${access}> ${id}: array<f32>;`);
  }
  lines.push(`@group(0) @binding(${b}) var<uniform> p: Params;`);
  return lines.join('\n');
}

const PARAMS = 'struct Params { rows: u32, inF: u32, r: u32, n: u32, outs: vec4<u32>, scales: vec4<f32> }';

/** downs[i, q·r + l] = Σ_k x[i, k]·A_q[l, k]. */
function downShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${bindings([
  ['x', 0, 'read'],
  ['A', n, 'read'],
  ['downs', 0, 'read_write'],
])}
${reader('A', n)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let i = gid.y;
  if (j >= p.n * p.r || i >= p.rows) { return; }
  let q = j / p.r;
  let l = j % p.r;
  var a = 0.0;
  for (var k = 0u; k < p.inF; k++) { a += x[i * p.inF + k] * read_A(q, l * p.inF + k); }
  downs[i * p.n * p.r + j] = a;
}
`;
}

/** y_q[i, j] = Σ_k x[i, k]·W_q[j, k] + s_q·Σ_l downs[i, q·r + l]·B_q[j, l]. */
function upShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${bindings([
  ['x', 0, 'read'],
  ['W', n, 'read'],
  ['downs', 0, 'read'],
  ['B', n, 'read'],
  ['y', n, 'read_write'],
])}
${reader('W', n)}
${reader('B', n)}
${writer('y', n)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let i = gid.y;
  let q = gid.z;
  let out = p.outs[q];
  if (j >= out || i >= p.rows) { return; }
  var a = 0.0;
  for (var k = 0u; k < p.inF; k++) { a += x[i * p.inF + k] * read_W(q, j * p.inF + k); }
  var b = 0.0;
  let d = i * p.n * p.r + q * p.r;
  for (var l = 0u; l < p.r; l++) { b += downs[d + l] * read_B(q, j * p.r + l); }
  write_y(q, i * out + j, a + p.scales[q] * b);
}
`;
}

/** ddowns[i, q·r + l] = s_q·Σ_j dy_q[i, j]·B_q[j, l]. */
function ddownShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${bindings([
  ['dy', n, 'read'],
  ['B', n, 'read'],
  ['ddowns', 0, 'read_write'],
])}
${reader('dy', n)}
${reader('B', n)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let i = gid.y;
  if (c >= p.n * p.r || i >= p.rows) { return; }
  let q = c / p.r;
  let l = c % p.r;
  let out = p.outs[q];
  var a = 0.0;
  for (var j = 0u; j < out; j++) { a += read_dy(q, i * out + j) * read_B(q, j * p.r + l); }
  ddowns[i * p.n * p.r + c] = p.scales[q] * a;
}
`;
}

/** dx[i, k] = Σ_q (Σ_j dy_q[i, j]·W_q[j, k] + Σ_l ddowns[i, q·r + l]·A_q[l, k]). */
function dxShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${bindings([
  ['dy', n, 'read'],
  ['W', n, 'read'],
  ['ddowns', 0, 'read'],
  ['A', n, 'read'],
  ['dx', 0, 'read_write'],
])}
${reader('dy', n)}
${reader('W', n)}
${reader('A', n)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let i = gid.y;
  if (k >= p.inF || i >= p.rows) { return; }
  var a = 0.0;
  for (var q = 0u; q < p.n; q++) {
    let out = p.outs[q];
    for (var j = 0u; j < out; j++) { a += read_dy(q, i * out + j) * read_W(q, j * p.inF + k); }
    let d = i * p.n * p.r + q * p.r;
    for (var l = 0u; l < p.r; l++) { a += ddowns[d + l] * read_A(q, l * p.inF + k); }
  }
  dx[i * p.inF + k] = a;
}
`;
}

/**
 * z < N: dB_z[j, l] = s_z·Σ_i dy_z[i, j]·downs[i, z·r + l] ([out_z, r]);
 * z ≥ N, q = z − N: dA_q[l, k] = Σ_i ddowns[i, q·r + l]·x[i, k] ([r, in]). Thread (x, y) = (column, row).
 */
function dabShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${bindings([
  ['dy', n, 'read'],
  ['downs', 0, 'read'],
  ['ddowns', 0, 'read'],
  ['x', 0, 'read'],
  ['dA', n, 'read_write'],
  ['dB', n, 'read_write'],
])}
${reader('dy', n)}
${writer('dA', n)}
${writer('dB', n)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let row = gid.y;
  let z = gid.z;
  let nr = p.n * p.r;
  if (z < p.n) {
    let out = p.outs[z];
    if (col >= p.r || row >= out) { return; }
    var a = 0.0;
    for (var i = 0u; i < p.rows; i++) { a += read_dy(z, i * out + row) * downs[i * nr + z * p.r + col]; }
    write_dB(z, row * p.r + col, p.scales[z] * a);
  } else {
    let q = z - p.n;
    if (col >= p.inF || row >= p.r) { return; }
    var a = 0.0;
    for (var i = 0u; i < p.rows; i++) { a += ddowns[i * nr + q * p.r + row] * x[i * p.inF + col]; }
    write_dA(q, row * p.inF + col, a);
  }
}
`;
}

/** One projection of a group: frozen W [out, in], trained A [r, in] and B [out, r], and its scale. */
export interface LoraProjection {
  w: tf.Tensor2D;
  a: tf.Tensor2D;
  b: tf.Tensor2D;
  scale: number;
}

/** Whether {@link loraGroupWebGPU} can run these projections of x here. */
export function loraGroupFits(x: tf.Tensor2D, projections: LoraProjection[]): boolean {
  const n = projections.length;
  if (n < 1 || n > MAX_GROUP || !fusedWebGPUFits(3 * n + 3) || x.dtype !== 'float32') return false;
  const r = projections[0].a.shape[0];
  return projections.every(
    (p) =>
      p.w.dtype === 'float32' && p.a.shape[0] === r && p.w.shape[1] === x.shape[1] && p.b.shape[0] === p.w.shape[0],
  );
}

interface GroupAttrs {
  n: number;
  scales: number[];
}

function register(n: number): string {
  const name = `IntrodlLoraGroup${n}`;
  const inputNames = (prefix: string) => Array.from({ length: n }, (_, q) => `${prefix}${q}`);
  const paramsOf = (x: tf.TensorInfo, as: tf.TensorInfo[], ws: tf.TensorInfo[], scales: number[]) => {
    const [rows, inF] = x.shape;
    const r = as[0].shape[0];
    const outs = ws.map((w) => w.shape[0]);
    const pad = <T>(xs: T[], fill: T) => [...xs, ...Array(MAX_GROUP - xs.length).fill(fill)];
    const uniforms = words(
      rows,
      inF,
      r,
      n,
      ...pad(outs, 0),
      ...pad(
        scales.map((v) => f32(v)),
        f32(0),
      ),
    );
    return { rows, inF, r, outs, uniforms };
  };
  const key = (part: string) => `introdl-lora-group-${part}-${n}`;
  registerWebGPUKernel(
    {
      kernelName: name,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const get = (names: string[]) => names.map((k) => (inputs as Record<string, tf.TensorInfo>)[k]);
        const [x] = get(['x']);
        const [as, bs, ws] = [get(inputNames('a')), get(inputNames('b')), get(inputNames('w'))];
        const { rows, r, outs, uniforms } = paramsOf(x, as, ws, (attrs as unknown as GroupAttrs).scales);
        const be = backend as never;
        const downs = allocate(be, [rows, n * r]);
        dispatch(be, {
          pipeline: pipelineFor(be, key('down'), () => downShader(n)),
          buffers: [x, ...as, downs],
          uniforms,
          workgroups: [groups(n * r), rows],
        });
        const ys = outs.map((out) => allocate(be, [rows, out]));
        dispatch(be, {
          pipeline: pipelineFor(be, key('up'), () => upShader(n)),
          buffers: [x, ...ws, downs, ...bs, ...ys],
          uniforms,
          workgroups: [groups(Math.max(...outs)), rows, n],
        });
        return [...ys, downs];
      },
    },
    {
      kernelName: name,
      inputsToSave: ['x', ...inputNames('a'), ...inputNames('b'), ...inputNames('w')],
      outputsToSave: [...Array(n).fill(false), true],
      gradFunc: (dys, saved, attrs) => {
        const dy = (dys as tf.Tensor[]).slice(0, n);
        const x = saved[0];
        const as = saved.slice(1, 1 + n);
        const bs = saved.slice(1 + n, 1 + 2 * n);
        const ws = saved.slice(1 + 2 * n, 1 + 3 * n);
        const downs = saved[1 + 3 * n];
        const { rows, inF, r, outs, uniforms } = paramsOf(x, as, ws, (attrs as unknown as GroupAttrs).scales);
        const be = webgpuBackend();
        // Here, not in the lazy functions (tfjs runs each of those in a tidy of its own): the
        // down-projections' gradient, and dA, dB of every projection in one dispatch.
        const ddowns = allocate(be, [rows, n * r]);
        dispatch(be, {
          pipeline: pipelineFor(be, key('ddown'), () => ddownShader(n)),
          buffers: [...dy, ...bs, ddowns],
          uniforms,
          workgroups: [groups(n * r), rows],
        });
        const da = as.map((a) => allocate(be, a.shape));
        const db = bs.map((b) => allocate(be, b.shape));
        dispatch(be, {
          pipeline: pipelineFor(be, key('dab'), () => dabShader(n)),
          buffers: [...dy, downs, ddowns, x, ...da, ...db],
          uniforms,
          workgroups: [groups(Math.max(r, inF)), Math.max(...outs, r), 2 * n],
        });
        const ddownsTensor = toTensor(ddowns);
        const grads: Record<string, () => tf.Tensor> = {
          // x's gradient summed over every projection: computed only when something upstream trains.
          x: () => {
            const dx = allocate(be, [rows, inF]);
            dispatch(be, {
              pipeline: pipelineFor(be, key('dx'), () => dxShader(n)),
              buffers: [...dy, ...ws, ddownsTensor, ...as, dx],
              uniforms,
              workgroups: [groups(inF), rows],
            });
            return toTensor(dx);
          },
        };
        da.forEach((t, q) => {
          const tensor = toTensor(t);
          grads[`a${q}`] = () => tensor;
        });
        db.forEach((t, q) => {
          const tensor = toTensor(t);
          grads[`b${q}`] = () => tensor;
        });
        // The base weights are frozen; nothing asks for their gradient.
        ws.forEach((w, q) => {
          grads[`w${q}`] = () => tf.zerosLike(w);
        });
        return grads;
      },
    },
  );
  return name;
}

/** Every y_p = x·W_pᵀ + s_p·(x·A_pᵀ)·B_pᵀ on webgpu (check {@link loraGroupFits}); differentiable in x, A_p, B_p. */
export function loraGroupWebGPU(x: tf.Tensor2D, projections: LoraProjection[]): tf.Tensor2D[] {
  const n = projections.length;
  const name = register(n);
  const inputs: Record<string, tf.Tensor> = { x };
  projections.forEach((p, q) => {
    inputs[`a${q}`] = p.a;
    inputs[`b${q}`] = p.b;
    inputs[`w${q}`] = p.w;
  });
  const out = tf
    .engine()
    .runKernel(name, inputs, { n, scales: projections.map((p) => p.scale) } as never) as tf.Tensor[];
  out[n].dispose();
  return out.slice(0, n) as tf.Tensor2D[];
}
