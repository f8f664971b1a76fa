import * as tf from '@tensorflow/tfjs';
import { f32, fusedWebGPUFits, grid, launch, registerWebGPUKernel, rowsOfLast, toTensor, words } from './runner.js';
import { WGSL_ELEMENTWISE_MAIN, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * Batch normalisation while training (statistics of the batch, over every axis but the last) in
 * two dispatches forward and two backward. tf.layers' BatchNormalization runs tf.moments (means
 * through a transpose, a subtraction, a square), the normalisation and two moving-average updates
 * of three ops each forward, and their gradients backward: about twenty-five dispatches a layer.
 * - forward 1, a workgroup per channel: the mean, then the (biased) variance around it (two passes
 *   over the channel, as exact as tf.moments), 1/√(var + ε), and the new moving mean and variance
 *   m − (m − batch)·(1 − momentum), as tf.layers computes them;
 * - forward 2: y = (x − mean)·r·γ + β;
 * - backward 1, a workgroup per channel: dβ = Σ dy, dγ = Σ dy·x̂;
 * - backward 2: dx = γ·r·(dy − dβ/N − x̂·dγ/N), the full gradient through the batch statistics.
 */

const STATS = /* wgsl */ `
struct Params { rows: u32, channels: u32, eps: f32, decay: f32 }
${wgslBindings(['x', 'movingMean', 'movingVar'], ['mean', 'rstd', 'newMean', 'newVar'])}
var<workgroup> s: array<f32, 256>;
var<workgroup> shared_mean: f32;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let n = f32(p.rows);
  var a = 0.0;
  for (var i = lid; i < p.rows; i += 256u) { a += x[i * p.channels + c]; }
  ${wgslWorkgroupReduce(256, [{ shared: 's', value: 'a' }])}
  if (lid == 0u) { shared_mean = s[0] / n; }
  workgroupBarrier();
  let m = shared_mean;
  var b = 0.0;
  for (var i = lid; i < p.rows; i += 256u) { let d = x[i * p.channels + c] - m; b += d * d; }
  ${wgslWorkgroupReduce(256, [{ shared: 's', value: 'b' }])}
  let v = s[0] / n;
  if (lid == 0u) {
    mean[c] = m;
    rstd[c] = inverseSqrt(v + p.eps);
    newMean[c] = movingMean[c] - (movingMean[c] - m) * p.decay;
    newVar[c] = movingVar[c] - (movingVar[c] - v) * p.decay;
  }
}
`;

const NORMALIZE = /* wgsl */ `
struct Params { n: u32, channels: u32 }
${wgslBindings(['x', 'mean', 'rstd', 'gamma', 'beta'], ['y'])}
${WGSL_ELEMENTWISE_MAIN}
  let c = i % p.channels;
  y[i] = (x[i] - mean[c]) * rstd[c] * gamma[c] + beta[c];
}
`;

const GRAD_REDUCE = /* wgsl */ `
struct Params { rows: u32, channels: u32 }
${wgslBindings(['dy', 'x', 'mean', 'rstd'], ['dgamma', 'dbeta'])}
var<workgroup> s1: array<f32, 256>;
var<workgroup> s2: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let m = mean[c];
  var a = 0.0;
  var b = 0.0;
  for (var i = lid; i < p.rows; i += 256u) {
    let g = dy[i * p.channels + c];
    a += g;
    b += g * (x[i * p.channels + c] - m);
  }
  ${wgslWorkgroupReduce(256, [
    { shared: 's1', value: 'a' },
    { shared: 's2', value: 'b' },
  ])}
  if (lid == 0u) {
    dbeta[c] = s1[0];
    dgamma[c] = s2[0] * rstd[c];
  }
}
`;

const GRAD_DX = /* wgsl */ `
struct Params { n: u32, channels: u32, invRows: f32 }
${wgslBindings(['dy', 'x', 'mean', 'rstd', 'gamma', 'dgamma', 'dbeta'], ['dx'])}
${WGSL_ELEMENTWISE_MAIN}
  let c = i % p.channels;
  let r = rstd[c];
  let xhat = (x[i] - mean[c]) * r;
  dx[i] = gamma[c] * r * (dy[i] - dbeta[c] * p.invRows - xhat * dgamma[c] * p.invRows);
}
`;

const KERNEL = 'IntrodlBatchNormTrain';

interface Attrs {
  epsilon: number;
  momentum: number;
}

function register(): void {
  registerWebGPUKernel(
    {
      kernelName: KERNEL,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, scale, offset, movingMean, movingVariance } = inputs as Record<string, tf.TensorInfo>;
        const { epsilon, momentum } = attrs as unknown as Attrs;
        const [rows, channels] = rowsOfLast(x.shape);
        const n = rows * channels;
        const be = backend as never;
        const [mean, rstd, newMean, newVar] = launch(be, 'introdl-batchnorm-train-stats', () => STATS, {
          inputs: [x, movingMean, movingVariance],
          outputs: [[channels], [channels], [channels], [channels]],
          uniforms: words(rows, channels, f32(epsilon), f32(1 - momentum)),
          workgroups: [channels],
        });
        const [y] = launch(be, 'introdl-batchnorm-train-normalize', () => NORMALIZE, {
          inputs: [x, mean, rstd, scale, offset],
          outputs: [x.shape],
          uniforms: words(n, channels),
          workgroups: grid(n),
        });
        return [y, mean, rstd, newMean, newVar];
      },
    },
    {
      kernelName: KERNEL,
      inputsToSave: ['x', 'scale'],
      outputsToSave: [false, true, true, false, false],
      gradFunc: (dys, saved) => {
        const [x, scale, mean, rstd] = saved;
        const dy = (dys as tf.Tensor[])[0];
        const [rows, channels] = rowsOfLast(x.shape);
        const be = tf.backend() as never;
        // Here, not in the lazy functions: tfjs runs each of those in a tidy of its own.
        const [dgammaInfo, dbetaInfo] = launch(be, 'introdl-batchnorm-train-grad-reduce', () => GRAD_REDUCE, {
          inputs: [dy, x, mean, rstd],
          outputs: [[channels], [channels]],
          uniforms: words(rows, channels),
          workgroups: [channels],
        });
        const dgamma = toTensor(dgammaInfo);
        const dbeta = toTensor(dbetaInfo);
        return {
          x: () => {
            const [dx] = launch(be, 'introdl-batchnorm-train-grad-dx', () => GRAD_DX, {
              inputs: [dy, x, mean, rstd, scale, dgamma, dbeta],
              outputs: [x.shape],
              uniforms: words(x.size, channels, f32(1 / rows)),
              workgroups: grid(x.size),
            });
            return toTensor(dx);
          },
          scale: () => dgamma,
          offset: () => dbeta,
          // The moving statistics only take the batch's; no gradient flows into them.
          movingMean: () => tf.zerosLike(saved[2]),
          movingVariance: () => tf.zerosLike(saved[2]),
        };
      },
    },
  );
}

/** Whether the fused training batch norm can run on `x` (webgpu, float32, 8 storage buffers per shader). */
export function batchNormTrainFits(x: tf.Tensor): boolean {
  return fusedWebGPUFits(8) && x.dtype === 'float32' && x.rank >= 2;
}

/** What {@link batchNormTrainWebGPU} returns. */
export interface BatchNormTrainResult {
  y: tf.Tensor;
  /** The moving mean and variance after this batch: m − (m − batch)·(1 − momentum). */
  movingMean: tf.Tensor1D;
  movingVariance: tf.Tensor1D;
}

/**
 * Normalises `x` by its batch statistics over every axis but the last, scales by γ and shifts by β;
 * differentiable in x, γ and β (check {@link batchNormTrainFits} first).
 */
export function batchNormTrainWebGPU(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  movingMean: tf.Tensor1D,
  movingVariance: tf.Tensor1D,
  epsilon: number,
  momentum: number,
): BatchNormTrainResult {
  register();
  const out = tf.engine().runKernel(KERNEL, { x, scale: gamma, offset: beta, movingMean, movingVariance }, {
    epsilon,
    momentum,
  } as never) as tf.Tensor[];
  tf.dispose([out[1], out[2]]);
  return { y: out[0], movingMean: out[3] as tf.Tensor1D, movingVariance: out[4] as tf.Tensor1D };
}
