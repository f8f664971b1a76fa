import * as tf from '@tensorflow/tfjs';
import { fusedWebGPUFits, grid, launch, registerWebGPUKernel, toTensor, words } from './runner.js';
import { WGSL_ELEMENTWISE_MAIN, WGSL_GRID_BUILTINS, wgslBindings, wgslWorkgroupReduce } from './wgsl.js';

/**
 * Softmax cross-entropy with integer labels, averaged over positions, in two WebGPU dispatches
 * forward and one backward (the tfjs-op version, one-hot · log-softmax, is about a dozen each way):
 * - forward 1, a workgroup per row: log Σ e^z (max subtracted) and the row's loss lse − z[label];
 * - forward 2, one workgroup: the mean of the rows' losses;
 * - backward: dz = (e^(z − lse) − [c = label])·dL/rows.
 * Per position (`reduction: 'none'`, Lab 3's per-token loss) it is the first forward dispatch alone
 * and the backward with each row's own dL.
 * A label outside [0, classes) has no target (tf.oneHot's zero row): its loss and gradient are 0, as
 * with the ops (the mean still counts its row).
 */

const ROWS = /* wgsl */ `
struct Params { rows: u32, classes: u32 }
${wgslBindings(['z', 'labels: array<i32>'], ['lse', 'rowLoss'])}
// Two arrays: every thread reads the max while others already write their sums.
var<workgroup> s: array<f32, 64>;
var<workgroup> t: array<f32, 64>;
@compute @workgroup_size(64)
fn main(${WGSL_GRID_BUILTINS}) {
  let row = wid.y * nwg.x + wid.x;
  let live = row < p.rows;
  let base = row * p.classes;
  var m = -3.0e38;
  if (live) { for (var c = lid; c < p.classes; c += 64u) { m = max(m, z[base + c]); } }
  ${wgslWorkgroupReduce(64, [{ shared: 's', value: 'm', op: 'max' }])}
  let mx = s[0];
  var e = 0.0;
  if (live) { for (var c = lid; c < p.classes; c += 64u) { e += exp(z[base + c] - mx); } }
  ${wgslWorkgroupReduce(64, [{ shared: 't', value: 'e' }])}
  if (!live || lid != 0u) { return; }
  let l = mx + log(t[0]);
  lse[row] = l;
  let label = labels[row];
  var rl = 0.0;
  if (label >= 0 && u32(label) < p.classes) { rl = l - z[base + u32(label)]; }
  rowLoss[row] = rl;
}
`;

const MEAN = /* wgsl */ `
struct Params { rows: u32 }
${wgslBindings(['rowLoss'], ['loss'])}
var<workgroup> s: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var a = 0.0;
  for (var i = lid; i < p.rows; i += 256u) { a += rowLoss[i]; }
  ${wgslWorkgroupReduce(256, [{ shared: 's', value: 'a' }])}
  if (lid == 0u) { loss[0] = s[0] / f32(p.rows); }
}
`;

/** dz, with dl the mean's gradient (one value) or, `perRow`, each row's. */
function backwardShader(perRow: boolean): string {
  return /* wgsl */ `
struct Params { n: u32, classes: u32 }
${wgslBindings(['z', 'labels: array<i32>', 'lse', 'dl'], ['dz'])}
${WGSL_ELEMENTWISE_MAIN}
  let row = i / p.classes;
  let c = i % p.classes;
  let label = labels[row];
  if (label < 0 || u32(label) >= p.classes) { dz[i] = 0.0; return; }
  var g = exp(z[i] - lse[row]);
  if (label == i32(c)) { g -= 1.0; }
  dz[i] = g * ${perRow ? 'dl[row]' : 'dl[0] / f32(p.n / p.classes)'};
}
`;
}

const KERNEL = 'IntrodlSoftmaxXentMean';

function register(): void {
  registerWebGPUKernel(
    {
      kernelName: KERNEL,
      kernelFunc: ({ inputs, backend }) => {
        const { logits, labels } = inputs as Record<string, tf.TensorInfo>;
        const classes = logits.shape[logits.shape.length - 1];
        const rows = tf.util.sizeFromShape(labels.shape);
        const be = backend as never;
        const [lse, rowLoss] = launch(be, 'introdl-softmax-xent-rows', () => ROWS, {
          inputs: [logits, labels],
          outputs: [[rows], [rows]],
          uniforms: words(rows, classes),
          workgroups: grid(rows, 1),
        });
        const [loss] = launch(be, 'introdl-softmax-xent-mean', () => MEAN, {
          inputs: [rowLoss],
          outputs: [[]],
          uniforms: words(rows),
          workgroups: [1],
        });
        toTensor(rowLoss).dispose();
        return [loss, lse];
      },
    },
    xentGradient(KERNEL, 'introdl-softmax-xent-grad', false),
  );
}

/** Whether the fused loss can run here: webgpu, float32 logits, int32 labels. */
export function softmaxXentFits(labels: tf.Tensor, logits: tf.Tensor): boolean {
  return fusedWebGPUFits(5) && logits.dtype === 'float32' && labels.dtype === 'int32' && labels.size > 0;
}

/** mean(−log softmax(logits)[label]) over every position, on webgpu; differentiable in the logits. */
export function softmaxXentMeanWebGPU(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  register();
  const [loss, lse] = tf.engine().runKernel(KERNEL, { logits, labels }, {}) as tf.Tensor[];
  lse.dispose();
  return loss as tf.Scalar;
}

const ROWS_KERNEL = 'IntrodlSoftmaxXentRows';

function registerRows(): void {
  registerWebGPUKernel(
    {
      kernelName: ROWS_KERNEL,
      kernelFunc: ({ inputs, backend }) => {
        const { logits, labels } = inputs as Record<string, tf.TensorInfo>;
        const classes = logits.shape[logits.shape.length - 1];
        const rows = tf.util.sizeFromShape(labels.shape);
        const [lse, rowLoss] = launch(backend as never, 'introdl-softmax-xent-rows', () => ROWS, {
          inputs: [logits, labels],
          outputs: [[rows], labels.shape],
          uniforms: words(rows, classes),
          workgroups: grid(rows, 1),
        });
        return [rowLoss, lse];
      },
    },
    xentGradient(ROWS_KERNEL, 'introdl-softmax-xent-rows-grad', true),
  );
}

/** −log softmax(logits)[label] at every position (labels' shape), on webgpu; differentiable in the logits. */
export function softmaxXentRowsWebGPU(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  registerRows();
  const [loss, lse] = tf.engine().runKernel(ROWS_KERNEL, { logits, labels }, {}) as tf.Tensor[];
  lse.dispose();
  return loss;
}

/**
 * The logits' gradient of either loss kernel (the mean's or the per-row one): one dispatch of
 * {@link backwardShader} from the saved logits, labels and log-sum-exps; labels get none.
 */
function xentGradient(kernelName: string, pipeline: string, perRow: boolean): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['logits', 'labels'],
    outputsToSave: [false, true],
    gradFunc: (dys, saved) => {
      const [z, labels, lse] = saved;
      const dl = (dys as tf.Tensor[])[0];
      return {
        logits: () => {
          const [dz] = launch(tf.backend() as never, pipeline, () => backwardShader(perRow), {
            inputs: [z, labels, lse, dl],
            outputs: [z.shape],
            uniforms: words(z.size, z.shape[z.rank - 1]),
            workgroups: grid(z.size),
          });
          return toTensor(dz);
        },
        labels: () => tf.zerosLike(labels),
      };
    },
  };
}
