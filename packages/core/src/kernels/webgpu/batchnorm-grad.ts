import * as tf from '@tensorflow/tfjs';
import { f32, fusedWebGPUFits, grid, launch, rowsOfLast, toTensor, webgpuBackend, words } from './runner.js';
import { WGSL_ELEMENTWISE_MAIN, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * The gradient of tfjs' FusedBatchNorm (what tf.layers.batchNormalization and tf.batchNorm run) as
 * two WebGPU dispatches instead of about twenty (tfjs composes it of sub, mul, rsqrt, tile and four
 * reductions): one workgroup per channel sums dy and dy·(x − mean) over every other axis, giving
 * the gradients of mean, variance, scale and offset; one elementwise pass gives dx = dy·scale·r,
 * r = 1/√(variance + ε). Same formulas as tfjs (mean and variance are inputs of their own; the
 * moments' gradients carry them back to x). Registered for every backend, it hands anything but
 * webgpu with per-channel statistics and a scale to tfjs' own gradient.
 */

const REDUCE = /* wgsl */ `
struct Params { rows: u32, channels: u32, eps: f32 }
${wgslBindings(['dy', 'x', 'mean', 'variance', 'scale'], ['dmean', 'dvar', 'dscale', 'doffset'])}
var<workgroup> s1: array<f32, 256>;
var<workgroup> s2: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  var a = 0.0;
  var b = 0.0;
  if (c < p.channels) {
    let m = mean[c];
    for (var i = lid; i < p.rows; i += 256u) {
      let g = dy[i * p.channels + c];
      a += g;
      b += g * (x[i * p.channels + c] - m);
    }
  }
  ${wgslWorkgroupReduce(256, [
    { shared: 's1', value: 'a' },
    { shared: 's2', value: 'b' },
  ])}
  if (lid != 0u || c >= p.channels) { return; }
  let r = inverseSqrt(variance[c] + p.eps);
  let sc = scale[c];
  doffset[c] = s1[0];
  dscale[c] = s2[0] * r;
  dmean[c] = -r * sc * s1[0];
  dvar[c] = -0.5 * r * r * r * sc * s2[0];
}
`;

const DX = /* wgsl */ `
struct Params { n: u32, channels: u32, eps: f32 }
${wgslBindings(['dy', 'variance', 'scale'], ['dx'])}
${WGSL_ELEMENTWISE_MAIN}
  let c = i % p.channels;
  dx[i] = dy[i] * scale[c] * inverseSqrt(variance[c] + p.eps);
}
`;

type Grads = Record<string, () => tf.Tensor>;

/** The five gradients on webgpu, or undefined when this case is left to tfjs. */
function fusedGradients(dy: tf.Tensor, saved: tf.Tensor[], eps: number): Grads | undefined {
  const [x, mean, variance, scale] = saved;
  const [rows, channels] = rowsOfLast(x.shape);
  if (!fusedWebGPUFits(9) || !scale || mean.rank !== 1 || mean.size !== channels || x.dtype !== 'float32') {
    return undefined;
  }
  if (variance.size !== channels || scale.size !== channels) return undefined;
  const backend = webgpuBackend();
  const outs = launch(backend, 'introdl-batchnorm-grad-reduce', () => REDUCE, {
    inputs: [dy, x, mean, variance, scale],
    outputs: [[channels], [channels], [channels], [channels]],
    uniforms: words(rows, channels, f32(eps)),
    workgroups: [channels],
  });
  const [dx] = launch(backend, 'introdl-batchnorm-grad-dx', () => DX, {
    inputs: [dy, variance, scale],
    outputs: [x.shape],
    uniforms: words(x.size, channels, f32(eps)),
    workgroups: grid(x.size),
  });
  const [dmean, dvar, dscale, doffset] = outs.map((o) => toTensor(o));
  const dxTensor = toTensor(dx);
  return {
    x: () => dxTensor,
    mean: () => dmean,
    variance: () => dvar,
    scale: () => dscale,
    offset: () => doffset,
  };
}

let registered = false;

/** Registers the fused FusedBatchNorm gradient (once), keeping tfjs' own for every other case. */
export function registerBatchNormGradient(): void {
  if (registered) return;
  // tfjs keeps gradients in a map on globalThis._tfGlobals; its getter is not exported.
  const registry = (globalThis as { _tfGlobals?: Map<string, unknown> })._tfGlobals?.get('gradRegistry') as
    | Map<string, tf.GradConfig>
    | undefined;
  const original = registry?.get('FusedBatchNorm');
  if (!original?.gradFunc) return;
  registered = true;
  const config: tf.GradConfig = {
    kernelName: 'FusedBatchNorm',
    inputsToSave: original.inputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
      return fusedGradients(dy as tf.Tensor, saved, eps) ?? original.gradFunc(dy, saved, attrs);
    },
  };
  const warn = console.warn;
  console.warn = () => {}; // tfjs warns when a gradient is replaced; replacing it is the point
  try {
    tf.registerGradient(config);
  } finally {
    console.warn = warn;
  }
}
