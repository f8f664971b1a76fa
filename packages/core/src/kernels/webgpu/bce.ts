import * as tf from '@tensorflow/tfjs';
import { fusedWebGPUFits, grid, launch, registerWebGPUKernel, toTensor, words } from './runner.js';
import { WGSL_ELEMENTWISE_MAIN, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * Binary cross-entropy from logits, averaged over every element, in one dispatch each way (the
 * tfjs-op version is about eight forward and ten backward): mean of max(z, 0) − z·y + log(1 + e^−|z|),
 * and its gradient (σ(z) − y)·dL/N. One workgroup sums the loss: the inputs are a batch of logits.
 */

const FORWARD = /* wgsl */ `
struct Params { n: u32 }
${wgslBindings(['z', 'y'], ['loss'])}
var<workgroup> s: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var a = 0.0;
  for (var i = lid; i < p.n; i += 256u) {
    let v = z[i];
    a += max(v, 0.0) - v * y[i] + log(1.0 + exp(-abs(v)));
  }
  ${wgslWorkgroupReduce(256, [{ shared: 's', value: 'a' }])}
  if (lid == 0u) { loss[0] = s[0] / f32(p.n); }
}
`;

const BACKWARD = /* wgsl */ `
struct Params { n: u32 }
${wgslBindings(['z', 'y', 'dl'], ['dz'])}
${WGSL_ELEMENTWISE_MAIN}
  dz[i] = (1.0 / (1.0 + exp(-z[i])) - y[i]) * dl[0] / f32(p.n);
}
`;

const KERNEL = 'IntrodlBceLogitsMean';

function register(): void {
  registerWebGPUKernel(
    {
      kernelName: KERNEL,
      kernelFunc: ({ inputs, backend }) => {
        const { logits, labels } = inputs as Record<string, tf.TensorInfo>;
        const be = backend as never;
        const [loss] = launch(be, 'introdl-bce-logits-mean', () => FORWARD, {
          inputs: [logits, labels],
          outputs: [[]],
          uniforms: words(tf.util.sizeFromShape(logits.shape)),
          workgroups: [1],
        });
        return loss;
      },
    },
    {
      kernelName: KERNEL,
      inputsToSave: ['logits', 'labels'],
      gradFunc: (dl, saved) => {
        const [z, y] = saved;
        return {
          logits: () => {
            const be = tf.backend() as never;
            const [dz] = launch(be, 'introdl-bce-logits-mean-grad', () => BACKWARD, {
              inputs: [z, y, dl as tf.Tensor],
              outputs: [z.shape],
              uniforms: words(z.size),
              workgroups: grid(z.size),
            });
            return toTensor(dz);
          },
          labels: () => tf.div(tf.mul(tf.neg(z), dl as tf.Tensor), z.size),
        };
      },
    },
  );
}

/** Whether the fused loss can run here (webgpu, float32 logits and labels). */
export function bceFits(labels: tf.Tensor, logits: tf.Tensor): boolean {
  return fusedWebGPUFits(4) && logits.dtype === 'float32' && labels.dtype === 'float32' && logits.size > 0;
}

/** mean(BCE(labels, σ(logits))) on webgpu; differentiable in both. */
export function bceLogitsMeanWebGPU(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  register();
  return tf.engine().runKernel(KERNEL, { logits, labels }, {}) as tf.Scalar;
}
