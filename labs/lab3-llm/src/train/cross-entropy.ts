import { fusedWebGPUActive, softmaxCrossEntropy, tf } from '@introdl/core';
import { KERNEL_BACKENDS, type KernelMemory } from '../model/kernel-memory.js';

/**
 * Per-row cross-entropy −log softmax(logits)[target] with its gradient written by hand:
 * d/dlogits = softmax(logits) − onehot(target).
 *
 * With a 50k–260k vocabulary the [tokens, vocabulary] tensors around the loss are the largest of a
 * step (Gemma 3: 267 MB each for 256 tokens), and autodiff of the textbook formula makes half a
 * dozen of them (max, shifted, exp, equality masks, the one-hot, products). On the cpu and wasm
 * backends two kernels do it in single passes over the logits: the forward pass writes the loss
 * and the log-normaliser per row and nothing else; the backward pass writes the gradient directly.
 * On webgpu core's per-position softmax cross-entropy does the same in one WGSL dispatch each way.
 * Other backends compose tfjs ops (same values, more memory).
 */

export const XENT_FORWARD = 'IntrodlCrossEntropy';
export const XENT_GRAD = 'IntrodlCrossEntropyGrad';

/** Rows [N, V] → [N, 2]: column 0 the loss, column 1 log Σ exp (the log-normaliser). */
function forwardKernel(memory: (b: unknown) => KernelMemory): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { logits, targets } = inputs as { logits: tf.TensorInfo; targets: tf.TensorInfo };
    const [N, V] = logits.shape;
    const mem = memory(backend);
    return mem.output([N, 2], (out) => {
      const x = mem.read(logits) as Float32Array;
      const t = mem.read(targets);
      for (let n = 0; n < N; n++) {
        const row = n * V;
        let max = Number.NEGATIVE_INFINITY;
        for (let v = 0; v < V; v++) if (x[row + v] > max) max = x[row + v];
        let sum = 0;
        for (let v = 0; v < V; v++) sum += Math.exp(x[row + v] - max);
        const logZ = max + Math.log(sum);
        const target = t[n];
        if (!(target >= 0 && target < V)) throw new Error(`${XENT_FORWARD}: target ${target} is not in [0, ${V - 1}]`);
        out[2 * n] = logZ - x[row + target];
        out[2 * n + 1] = logZ;
      }
    });
  };
}

/** dlogits [N, V] = (exp(logits − logZ) − onehot(targets)) · dy. */
function gradKernel(memory: (b: unknown) => KernelMemory): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { logits, logZ, targets, dy } = inputs as Record<string, tf.TensorInfo>;
    const [N, V] = logits.shape;
    const mem = memory(backend);
    return mem.output([N, V], (out) => {
      const x = mem.read(logits) as Float32Array;
      const z = mem.read(logZ) as Float32Array;
      const t = mem.read(targets);
      const g = mem.read(dy) as Float32Array;
      for (let n = 0; n < N; n++) {
        const row = n * V;
        const scale = g[n];
        const zn = z[n];
        if (scale === 0) {
          out.fill(0, row, row + V);
          continue;
        }
        for (let v = 0; v < V; v++) out[row + v] = Math.exp(x[row + v] - zn) * scale;
        out[row + t[n]] -= scale;
      }
    });
  };
}

let registered = false;

function ensureKernels(): void {
  if (registered) return;
  registered = true;
  for (const [backendName, memory] of KERNEL_BACKENDS) {
    if (!tf.getKernel(XENT_FORWARD, backendName))
      tf.registerKernel({ kernelName: XENT_FORWARD, backendName, kernelFunc: forwardKernel(memory) });
    if (!tf.getKernel(XENT_GRAD, backendName))
      tf.registerKernel({ kernelName: XENT_GRAD, backendName, kernelFunc: gradKernel(memory) });
  }
}

/** −log softmax(logits)[targets] per row, differentiable in `logits` (not in `targets`). */
export function crossEntropyRows(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  // A target outside the vocabulary gets loss 0 there (tf.oneHot's zero row), where the kernels
  // here throw: webgpu cannot read the targets back synchronously to check them.
  if (fusedWebGPUActive()) return softmaxCrossEntropy(tf.cast(targets, 'int32'), logits, 'none') as tf.Tensor1D;
  ensureKernels();
  const [N, V] = logits.shape;
  const fused = Boolean(tf.getKernel(XENT_FORWARD, tf.getBackend()));
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const ids = tf.cast(targets, 'int32') as tf.Tensor1D;
    let nll: tf.Tensor1D;
    let logZ: tf.Tensor1D;
    if (fused) {
      const both = tf.engine().runKernel(XENT_FORWARD, { logits: x, targets: ids }) as tf.Tensor2D;
      nll = both.slice([0, 0], [N, 1]).reshape([N]);
      logZ = both.slice([0, 1], [N, 1]).reshape([N]);
    } else {
      logZ = tf.logSumExp(x, -1) as tf.Tensor1D;
      // forward only: the gradient never goes through this gather
      const flat = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), ids) as tf.Tensor1D;
      nll = tf.sub(logZ, tf.gather(x.reshape([N * V]), flat)) as tf.Tensor1D;
    }
    save([x, logZ, ids]); // kept until the backward pass
    return {
      value: nll,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [xs, z, t] = saved;
        const g = dy as tf.Tensor1D;
        if (fused) return tf.engine().runKernel(XENT_GRAD, { logits: xs, logZ: z, targets: t, dy: g }) as tf.Tensor;
        const softmax = tf.exp(tf.sub(xs, z.reshape([N, 1])));
        return tf.mul(tf.sub(softmax, tf.oneHot(t as tf.Tensor1D, V)), g.reshape([N, 1]));
      },
    };
  });
  return op(logits) as tf.Tensor1D;
}
