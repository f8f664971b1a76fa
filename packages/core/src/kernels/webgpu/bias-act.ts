import * as tf from '@tensorflow/tfjs';
import {
  allocate,
  dispatch,
  fusedWebGPUFits,
  pipelineFor,
  registerWebGPUKernel,
  rowsOfLast,
  toTensor,
  words,
} from './runner.js';
import { wgslWorkgroupReduce } from './wgsl.js';

/**
 * Convolution and dense products with bias and ReLU (or none) as one dispatch forward and three
 * backward, while training. tfjs fuses bias and activation into its convolution and matmul programs
 * only when no gradient is being recorded; under tf.grad it runs product, add and relu forward and
 * step, multiply, a sum (with a transpose) and the two products backward. Here:
 * - forward: tfjs' own FusedConv2D / _FusedMatMul program, bias and activation included;
 * - backward: one kernel masks dy where the output is 0 (ReLU's gradient) and sums it per channel
 *   (the bias gradient), then tfjs' two products (input and weight gradients), each only when
 *   asked for (a registered gradient: the first layer's input gradient is never computed).
 */

export type BiasActivation = 'relu' | 'linear';

/** dyM = dy·[y > 0] (ReLU) and dbias = Σ_rows dyM, one workgroup per channel. */
function maskBiasShader(relu: boolean): string {
  return /* wgsl */ `
struct Params { rows: u32, channels: u32 }
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
${
  relu
    ? `@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dym: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;`
    : '@group(0) @binding(2) var<uniform> p: Params;'
}
var<workgroup> s: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  var a = 0.0;
  for (var i = lid; i < p.rows; i += 256u) {
    let k = i * p.channels + c;
    var g = dy[k];
    ${relu ? 'if (y[k] <= 0.0) { g = 0.0; }\n    dym[k] = g;' : ''}
    a += g;
  }
  ${wgslWorkgroupReduce(256, [{ shared: 's', value: 'a' }])}
  if (lid == 0u) { dbias[c] = s[0]; }
}
`;
}

/** The gradient at the product's output (dy masked by ReLU) and the bias gradient. */
function maskAndBias(dy: tf.Tensor, y: tf.Tensor, activation: BiasActivation): [tf.Tensor, tf.Tensor1D] {
  const [rows, channels] = rowsOfLast(y.shape);
  const backend = tf.backend() as never;
  const relu = activation === 'relu';
  const dbias = allocate(backend, [channels]);
  const dym = relu ? allocate(backend, y.shape) : undefined;
  dispatch(backend, {
    pipeline: pipelineFor(backend, `introdl-mask-bias-${activation}`, () => maskBiasShader(relu)),
    buffers: dym ? [dy, dbias, y, dym] : [dy, dbias],
    uniforms: words(rows, channels),
    workgroups: [channels],
  });
  return [dym ? toTensor(dym) : dy, toTensor(dbias)];
}

const CONV = 'IntrodlConv2DBiasAct';
const MATMUL = 'IntrodlMatMulBiasAct';

interface ConvAttrs {
  strides: [number, number];
  pad: 'same' | 'valid';
  activation: BiasActivation;
}

function register(): void {
  registerWebGPUKernel(
    {
      kernelName: CONV,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { strides, pad, activation } = attrs as unknown as ConvAttrs;
        return tf.getKernel('FusedConv2D', 'webgpu')?.kernelFunc({
          inputs,
          backend,
          attrs: { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], activation },
        }) as tf.TensorInfo;
      },
    },
    {
      kernelName: CONV,
      inputsToSave: ['x', 'filter'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [x, filter, y] = saved;
        const { strides, pad, activation } = attrs as unknown as ConvAttrs;
        // Computed here, not in the lazy functions: tfjs runs each of those in a tidy of its own.
        const [dym, dbias] = maskAndBias(dy as tf.Tensor, y, activation);
        const conv = { strides, pad, dataFormat: 'NHWC' };
        return {
          x: () =>
            tf.engine().runKernel('Conv2DBackpropInput', { dy: dym, filter }, {
              ...conv,
              inputShape: x.shape,
            } as never) as tf.Tensor,
          filter: () =>
            tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dym }, {
              ...conv,
              filterShape: filter.shape,
            } as never) as tf.Tensor,
          bias: () => dbias,
        };
      },
    },
  );
  registerWebGPUKernel(
    {
      kernelName: MATMUL,
      kernelFunc: ({ inputs, backend, attrs }) =>
        tf.getKernel('_FusedMatMul', 'webgpu')?.kernelFunc({
          inputs,
          backend,
          attrs: { transposeA: false, transposeB: false, activation: (attrs as { activation: string }).activation },
        }) as tf.TensorInfo,
    },
    {
      kernelName: MATMUL,
      inputsToSave: ['a', 'b'],
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => {
        const [a, b, y] = saved;
        const [dym, dbias] = maskAndBias(dy as tf.Tensor, y, (attrs as { activation: BiasActivation }).activation);
        return {
          a: () => tf.matMul(dym, b, false, true),
          b: () => tf.matMul(a, dym, true, false),
          bias: () => dbias,
        };
      },
    },
  );
}

/** Whether the fused bias-activation kernels can run on these tensors (webgpu, float32). */
export function biasActFits(...ts: tf.Tensor[]): boolean {
  return fusedWebGPUFits(4) && ts.every((t) => t.dtype === 'float32');
}

/**
 * act(conv2d(x, filter) + bias), NHWC, dilation 1, on webgpu (check {@link biasActFits} first);
 * differentiable in x, filter and bias.
 */
export function conv2dBiasActWebGPU(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  strides: [number, number],
  pad: 'same' | 'valid',
  activation: BiasActivation,
): tf.Tensor4D {
  register();
  return tf.engine().runKernel(CONV, { x, filter, bias }, { strides, pad, activation } as never) as tf.Tensor4D;
}

/** act(a·b + bias) for a [m, k], b [k, n] on webgpu; differentiable in a, b and bias. */
export function matMulBiasActWebGPU(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  bias: tf.Tensor1D,
  activation: BiasActivation,
): tf.Tensor2D {
  register();
  return tf.engine().runKernel(MATMUL, { a, b, bias }, { activation } as never) as tf.Tensor2D;
}
