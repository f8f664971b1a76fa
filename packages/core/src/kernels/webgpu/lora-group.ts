import * as tf from '@tensorflow/tfjs';
import {
  f32,
  fusedWebGPUFits,
  groups,
  launch,
  registerWebGPUKernel,
  toTensor,
  webgpuBackend,
  words,
} from './runner.js';
import { numbered, wgslBindings } from './wgsl.js';

/**
 * Several LoRA projections of the same input, y_p = x·W_pᵀ + s_p·(x·A_pᵀ)·B_pᵀ (a layer's q, k and v,
 * or gate and up), in one WebGPU dispatch forward and two backward for the whole group, where one
 * projection at a time takes two forward and four backward:
 * - forward: every y_p (the grid's z picks p), each workgroup computing its row's x·A_pᵀ first; the
 *   down-projections of all p are also written side by side in one [rows, N·r] buffer for backward;
 * - backward: s_p·dy_p·B_p for all p (the gradient of the down-projections) with every dB_p, then
 *   dx summed over every projection (no adds of per-projection gradients) with every dA_p.
 * A thread per output element with plain loops, like the single projection's kernel. A shader binds
 * up to 4N + 3 storage buffers (15 for q, k, v): on a device with fewer, one projection at a time.
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

const PARAMS = 'struct Params { rows: u32, inF: u32, r: u32, n: u32, outs: vec4<u32>, scales: vec4<f32> }';

/** The largest rank the forward kernel's workgroup holds x·A_qᵀ for (LoRA ranks are 4 to 64). */
export const MAX_RANK = 256;

/**
 * y_q[i, j] = Σ_k x[i, k]·W_q[j, k] + s_q·Σ_l downs[i, q·r + l]·B_q[j, l], with
 * downs[i, q·r + l] = Σ_k x[i, k]·A_q[l, k] computed by the same workgroup (x over 64 columns of
 * y_q, y over rows, z over q): a row's down-projection is r·in multiply-adds, cheap next to 64·in
 * for the tile, so recomputing it per tile saves the separate "down" dispatch. Column tile 0
 * writes it for the backward pass.
 */
function forwardShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${wgslBindings(['x', ...numbered('W', n), ...numbered('A', n), ...numbered('B', n)], [...numbered('y', n), 'downs'])}
${reader('W', n)}
${reader('A', n)}
${reader('B', n)}
${writer('y', n)}
var<workgroup> xa: array<f32, ${MAX_RANK}>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.y;
  let q = wid.z;
  let out = p.outs[q];
  for (var l = lid; l < p.r; l += 64u) {
    var a = 0.0;
    for (var k = 0u; k < p.inF; k++) { a += x[i * p.inF + k] * read_A(q, l * p.inF + k); }
    xa[l] = a;
    if (wid.x == 0u) { downs[i * p.n * p.r + q * p.r + l] = a; }
  }
  workgroupBarrier();
  let j = wid.x * 64u + lid;
  if (j >= out) { return; }
  var a = 0.0;
  for (var k = 0u; k < p.inF; k++) { a += x[i * p.inF + k] * read_W(q, j * p.inF + k); }
  var b = 0.0;
  for (var l = 0u; l < p.r; l++) { b += xa[l] * read_B(q, j * p.r + l); }
  write_y(q, i * out + j, a + p.scales[q] * b);
}
`;
}

/**
 * z = 0: ddowns[i, q·r + l] = s_q·Σ_j dy_q[i, j]·B_q[j, l] (thread x over N·r, y over rows);
 * z = 1 + q: dB_q[j, l] = s_q·Σ_i dy_q[i, j]·downs[i, q·r + l] (x over r, y over out_q).
 */
function ddownDbShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${wgslBindings([...numbered('dy', n), ...numbered('B', n), 'downs'], ['ddowns', ...numbered('dB', n)])}
${reader('dy', n)}
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

/**
 * z = 0: dx[i, k] = Σ_q (Σ_j dy_q[i, j]·W_q[j, k] + Σ_l ddowns[i, q·r + l]·A_q[l, k]) (x over in, y
 * over rows): x's gradient summed over the projections;
 * z = 1 + q: dA_q[l, k] = Σ_i ddowns[i, q·r + l]·x[i, k] (x over in, y over r).
 */
function dxDaShader(n: number): string {
  return /* wgsl */ `${PARAMS}
${wgslBindings(
  [...numbered('dy', n), ...numbered('W', n), 'ddowns', ...numbered('A', n), 'x'],
  ['dx', ...numbered('dA', n)],
)}
${reader('dy', n)}
${reader('W', n)}
${reader('A', n)}
${writer('dA', n)}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let k = gid.x;
  let row = gid.y;
  let nr = p.n * p.r;
  if (k >= p.inF) { return; }
  if (gid.z == 0u) {
    if (row >= p.rows) { return; }
    var a = 0.0;
    for (var q = 0u; q < p.n; q++) {
      let out = p.outs[q];
      for (var j = 0u; j < out; j++) { a += read_dy(q, row * out + j) * read_W(q, j * p.inF + k); }
      let d = row * nr + q * p.r;
      for (var l = 0u; l < p.r; l++) { a += ddowns[d + l] * read_A(q, l * p.inF + k); }
    }
    dx[row * p.inF + k] = a;
  } else {
    let q = gid.z - 1u;
    if (row >= p.r) { return; }
    var a = 0.0;
    for (var i = 0u; i < p.rows; i++) { a += ddowns[i * nr + q * p.r + row] * x[i * p.inF + k]; }
    write_dA(q, row * p.inF + k, a);
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
  if (n < 1 || n > MAX_GROUP || !fusedWebGPUFits(4 * n + 3) || x.dtype !== 'float32') return false;
  const r = projections[0].a.shape[0];
  return (
    r <= MAX_RANK &&
    projections.every(
      (p) =>
        p.w.dtype === 'float32' && p.a.shape[0] === r && p.w.shape[1] === x.shape[1] && p.b.shape[0] === p.w.shape[0],
    )
  );
}

interface GroupAttrs {
  n: number;
  scales: number[];
}

function register(n: number): string {
  const name = `IntrodlLoraGroup${n}`;
  const inputNames = (prefix: string) => numbered(prefix, n);
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
        const outputs = launch(be, key('forward'), () => forwardShader(n), {
          inputs: [x, ...ws, ...as, ...bs],
          outputs: [...outs.map((out) => [rows, out]), [rows, n * r]],
          uniforms,
          workgroups: [groups(Math.max(...outs)), rows, n],
        });
        const ys = outputs.slice(0, n);
        const downs = outputs[n];
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
        // down-projections' gradient with every dB, then x's gradient with every dA.
        const [ddowns, ...db] = launch(be, key('ddown-db'), () => ddownDbShader(n), {
          inputs: [...dy, ...bs, downs],
          outputs: [[rows, n * r], ...bs.map((b) => b.shape)],
          uniforms,
          workgroups: [groups(n * r), Math.max(rows, ...outs), 1 + n],
        });
        const [dx, ...da] = launch(be, key('dx-da'), () => dxDaShader(n), {
          inputs: [...dy, ...ws, ddowns, ...as, x],
          outputs: [[rows, inF], ...as.map((a) => a.shape)],
          uniforms,
          workgroups: [groups(inF), Math.max(rows, r), 1 + n],
        });
        toTensor(ddowns).dispose();
        const dxTensor = toTensor(dx);
        const grads: Record<string, () => tf.Tensor> = { x: () => dxTensor };
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
