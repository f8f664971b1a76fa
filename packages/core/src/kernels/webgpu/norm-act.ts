import * as tf from '@tensorflow/tfjs';
import {
  f32,
  grid,
  groups,
  launch,
  registerWebGPUKernel,
  rowsOfLast,
  toTensor,
  webgpuBackend,
  words,
} from './runner.js';
import { WGSL_ELEMENTWISE_MAIN, WGSL_GRID_BUILTINS, WGSL_MATH, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * RMSNorm and SwiGLU as fused WebGPU kernels with hand-written gradients (the transformer's
 * per-token elementwise work, about six tfjs kernels forward and ten backward for each norm):
 * - RMSNorm over the last axis, y = x · r · w with r = 1/√(mean(x²) + ε): forward one dispatch (a
 *   workgroup per row reduces mean(x²)), backward two (dx per row; dw as column sums over rows,
 *   only when w trains);
 * - SwiGLU's gating, y = silu(gate) · up: one dispatch each way.
 */

const RMSNORM_FORWARD = /* wgsl */ `
struct Params { rows: u32, width: u32, eps: f32 }
${wgslBindings(['x', 'w'], ['y', 'rstd'])}
var<workgroup> partial: array<f32, 64>;
@compute @workgroup_size(64)
fn main(${WGSL_GRID_BUILTINS}) {
  let row = wid.y * nwg.x + wid.x;
  let live = row < p.rows;
  let base = row * p.width;
  var s = 0.0;
  if (live) {
    for (var j = lid; j < p.width; j += 64u) { let v = x[base + j]; s += v * v; }
  }
  ${wgslWorkgroupReduce(64, [{ shared: 'partial', value: 's' }])}
  if (!live) { return; }
  let r = inverseSqrt(partial[0] / f32(p.width) + p.eps);
  if (lid == 0u) { rstd[row] = r; }
  for (var j = lid; j < p.width; j += 64u) { y[base + j] = x[base + j] * r * w[j]; }
}
`;

/** dx = r·w·dy − x·r³/H · Σ_j dy_j·w_j·x_j, per row. */
const RMSNORM_BACKWARD_DX = /* wgsl */ `
struct Params { rows: u32, width: u32 }
${wgslBindings(['dy', 'x', 'w', 'rstd'], ['dx'])}
var<workgroup> partial: array<f32, 64>;
@compute @workgroup_size(64)
fn main(${WGSL_GRID_BUILTINS}) {
  let row = wid.y * nwg.x + wid.x;
  let live = row < p.rows;
  let base = row * p.width;
  var s = 0.0;
  if (live) {
    for (var j = lid; j < p.width; j += 64u) { s += dy[base + j] * w[j] * x[base + j]; }
  }
  ${wgslWorkgroupReduce(64, [{ shared: 'partial', value: 's' }])}
  if (!live) { return; }
  let r = rstd[row];
  let c = partial[0] * r * r * r / f32(p.width);
  for (var j = lid; j < p.width; j += 64u) {
    dx[base + j] = r * w[j] * dy[base + j] - x[base + j] * c;
  }
}
`;

/**
 * {@link RMSNORM_BACKWARD_DX} where no r was kept (a kernel that normalizes its own input, as the
 * grouped LoRA forward does, has no storage buffer to spare for it): r from the row's mean(x²).
 * With `extra`, a gradient reaching x another way (the residual stream's) is added in, where tfjs
 * would add the two in a dispatch of its own.
 */
function rmsNormBackwardDxRecompute(extra: boolean): string {
  return /* wgsl */ `
struct Params { rows: u32, width: u32, eps: f32 }
${wgslBindings(['dy', 'x', 'w', ...(extra ? ['dextra'] : [])], ['dx'])}
var<workgroup> partial: array<f32, 64>;
var<workgroup> squares: array<f32, 64>;
@compute @workgroup_size(64)
fn main(${WGSL_GRID_BUILTINS}) {
  let row = wid.y * nwg.x + wid.x;
  let live = row < p.rows;
  let base = row * p.width;
  var s = 0.0;
  var ss = 0.0;
  if (live) {
    for (var j = lid; j < p.width; j += 64u) { let v = x[base + j]; s += dy[base + j] * w[j] * v; ss += v * v; }
  }
  ${wgslWorkgroupReduce(64, [
    { shared: 'partial', value: 's' },
    { shared: 'squares', value: 'ss' },
  ])}
  if (!live) { return; }
  let r = inverseSqrt(squares[0] / f32(p.width) + p.eps);
  let c = partial[0] * r * r * r / f32(p.width);
  for (var j = lid; j < p.width; j += 64u) {
    dx[base + j] = r * w[j] * dy[base + j] - x[base + j] * c${extra ? ' + dextra[base + j]' : ''};
  }
}
`;
}

/**
 * RMSNorm's input gradient on webgpu, dx for dy at the output of x / √(mean(x²) + ε) · w (x and dy
 * [rows, width], w [width]), in one dispatch with r recomputed per row; plus `extra` (x's gradient
 * by another path) when given.
 */
export function rmsNormInputGradient(
  dy: tf.TensorInfo,
  x: tf.TensorInfo,
  w: tf.TensorInfo,
  eps: number,
  extra?: tf.TensorInfo,
): tf.TensorInfo {
  const [rows, width] = rowsOfLast(x.shape);
  const key = `introdl-rmsnorm-backward-dx-recompute${extra ? '-extra' : ''}`;
  const [dx] = launch(webgpuBackend(), key, () => rmsNormBackwardDxRecompute(extra !== undefined), {
    inputs: [dy, x, w, ...(extra ? [extra] : [])],
    outputs: [x.shape],
    uniforms: words(rows, width, f32(eps)),
    workgroups: grid(rows, 1),
  });
  return dx;
}

/** dw_j = Σ_rows dy·x·r: one thread per column. */
const RMSNORM_BACKWARD_DW = /* wgsl */ `
struct Params { rows: u32, width: u32 }
${wgslBindings(['dy', 'x', 'rstd'], ['dw'])}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= p.width) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.rows; i++) { s += dy[i * p.width + j] * x[i * p.width + j] * rstd[i]; }
  dw[j] = s;
}
`;

const SWIGLU_FORWARD = /* wgsl */ `
struct Params { n: u32 }
${wgslBindings(['gate', 'up'], ['y'])}
${WGSL_MATH}
${WGSL_ELEMENTWISE_MAIN}
  let g = gate[i];
  y[i] = g * sigmoid_(g) * up[i];
}
`;

const SWIGLU_BACKWARD = /* wgsl */ `
struct Params { n: u32 }
${wgslBindings(['dy', 'gate', 'up'], ['dgate', 'dup'])}
${WGSL_MATH}
${WGSL_ELEMENTWISE_MAIN}
  let g = gate[i];
  let s = sigmoid_(g);
  let d = dy[i];
  dgate[i] = d * up[i] * s * (1.0 + g * (1.0 - s));
  dup[i] = d * g * s;
}
`;

const RMSNORM = 'IntrodlRmsNorm';

function registerRmsNorm(): void {
  registerWebGPUKernel(
    {
      kernelName: RMSNORM,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, w } = inputs as Record<string, tf.TensorInfo>;
        const [rows, width] = rowsOfLast(x.shape);
        const be = backend as never;
        return launch(be, 'introdl-rmsnorm-forward', () => RMSNORM_FORWARD, {
          inputs: [x, w],
          outputs: [x.shape, [rows]],
          uniforms: words(rows, width, f32((attrs as { eps: number }).eps)),
          workgroups: grid(rows, 1),
        });
      },
    },
    {
      // A registered gradient: tfjs asks only for what it needs (a frozen w's is never computed).
      kernelName: RMSNORM,
      inputsToSave: ['x', 'w'],
      outputsToSave: [false, true],
      gradFunc: (dys, saved) => {
        const [x, w, rstd] = saved;
        const dy = (dys as tf.Tensor[])[0];
        const [rows, width] = rowsOfLast(x.shape);
        return {
          x: () => {
            const be = webgpuBackend();
            const [dx] = launch(be, 'introdl-rmsnorm-backward-dx', () => RMSNORM_BACKWARD_DX, {
              inputs: [dy, x, w, rstd],
              outputs: [x.shape],
              uniforms: words(rows, width),
              workgroups: grid(rows, 1),
            });
            return toTensor(dx);
          },
          w: () => {
            const be = webgpuBackend();
            const [dw] = launch(be, 'introdl-rmsnorm-backward-dw', () => RMSNORM_BACKWARD_DW, {
              inputs: [dy, x, rstd],
              outputs: [[width]],
              uniforms: words(rows, width),
              workgroups: [groups(width)],
            });
            return tf.reshape(toTensor(dw), w.shape);
          },
        };
      },
    },
  );
}

/** RMSNorm of x over its last axis, scaled by w [H], on webgpu; differentiable in x and w. */
export function rmsNormWebGPU(x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor {
  registerRmsNorm();
  const [y, rstd] = tf.engine().runKernel(RMSNORM, { x, w }, { eps } as never) as tf.Tensor[];
  rstd.dispose();
  return y;
}

/** silu(gate) · up on webgpu; differentiable in both. */
export function swigluWebGPU(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  const n = gate.size;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [g, u] = args as [tf.Tensor, tf.Tensor];
    const save = args[2] as tf.GradSaveFunc;
    const backend = webgpuBackend();
    const [y] = launch(backend, 'introdl-swiglu-forward', () => SWIGLU_FORWARD, {
      inputs: [g, u],
      outputs: [g.shape],
      uniforms: words(n),
      workgroups: grid(n, 256),
    });
    save([g, u]);
    return {
      value: toTensor(y),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sg, su] = saved;
        const be = webgpuBackend();
        const [dg, du] = launch(be, 'introdl-swiglu-backward', () => SWIGLU_BACKWARD, {
          inputs: [dy, sg, su],
          outputs: [sg.shape, su.shape],
          uniforms: words(n),
          workgroups: grid(n, 256),
        });
        return [toTensor(dg), toTensor(du)];
      },
    };
  });
  return op(gate, up);
}
