import * as tf from '@tensorflow/tfjs';
import { fusedWebGPUFits, grid, launch, registerWebGPUKernel, toTensor, words } from './runner.js';
import { WGSL_ELEMENTWISE_MAIN, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * The mean of values over the positions where a float mask is 1 (a language model's loss over its
 * answer tokens), Σ v·m / max(Σ m, 1), in one WebGPU dispatch each way where tfjs' ops take about
 * five forward and four backward:
 * - forward, one workgroup: both sums, the mean, and the denominator kept for backward;
 * - backward: dv = dL·m / max(Σ m, 1).
 */

const FORWARD = /* wgsl */ `
struct Params { n: u32 }
${wgslBindings(['v', 'm'], ['loss', 'den'])}
var<workgroup> s: array<f32, 256>;
var<workgroup> c: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var a = 0.0;
  var b = 0.0;
  for (var i = lid; i < p.n; i += 256u) { a += v[i] * m[i]; b += m[i]; }
  ${wgslWorkgroupReduce(256, [
    { shared: 's', value: 'a' },
    { shared: 'c', value: 'b' },
  ])}
  if (lid == 0u) {
    let d = max(c[0], 1.0);
    loss[0] = s[0] / d;
    den[0] = d;
  }
}
`;

const BACKWARD = /* wgsl */ `
struct Params { n: u32 }
${wgslBindings(['m', 'den', 'dl'], ['dv'])}
${WGSL_ELEMENTWISE_MAIN}
  dv[i] = dl[0] * m[i] / den[0];
}
`;

const KERNEL = 'IntrodlMaskedMean';

function register(): void {
  registerWebGPUKernel(
    {
      kernelName: KERNEL,
      kernelFunc: ({ inputs, backend }) => {
        const { values, mask } = inputs as Record<string, tf.TensorInfo>;
        return launch(backend as never, 'introdl-masked-mean', () => FORWARD, {
          inputs: [values, mask],
          outputs: [[], [1]],
          uniforms: words(tf.util.sizeFromShape(values.shape)),
          workgroups: [1],
        });
      },
    },
    {
      kernelName: KERNEL,
      inputsToSave: ['values', 'mask'],
      outputsToSave: [true, true],
      gradFunc: (dys, saved) => {
        const [values, mask, loss, den] = saved;
        const dl = (dys as tf.Tensor[])[0];
        return {
          values: () => {
            const [dv] = launch(tf.backend() as never, 'introdl-masked-mean-grad', () => BACKWARD, {
              inputs: [mask, den, dl],
              outputs: [values.shape],
              uniforms: words(values.size),
              workgroups: grid(values.size),
            });
            return toTensor(dv);
          },
          // Only if a mask ever trains, with tfjs ops: dL/dm = v/D − L/D·[Σ m ≥ 1] (D = max(Σ m, 1),
          // the maximum's gradient going to Σ m at a tie, as tf.maximum's does).
          mask: () => {
            const counts = tf.cast(tf.greaterEqual(tf.sum(mask), 1), 'float32');
            return tf.mul(dl, tf.sub(tf.div(values, den), tf.mul(tf.div(loss, den), counts)));
          },
        };
      },
    },
  );
}

/** Whether the fused masked mean can run here: webgpu, float32 values and mask of one shape. */
export function maskedMeanFits(values: tf.Tensor, mask: tf.Tensor): boolean {
  return fusedWebGPUFits(4) && values.dtype === 'float32' && mask.dtype === 'float32' && values.size > 0;
}

/** Σ values·mask / max(Σ mask, 1) on webgpu; differentiable in both. */
export function maskedMeanWebGPU(values: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  register();
  const [loss, den] = tf.engine().runKernel(KERNEL, { values, mask }, {}) as tf.Tensor[];
  den.dispose();
  return loss as tf.Scalar;
}
