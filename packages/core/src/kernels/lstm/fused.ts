import * as tf from '@tensorflow/tfjs';
import { fusedWebGPUPass } from '../webgpu/lstm.js';
import type { FusedPass } from './fused-pass.js';
import { fusedTensorsPass } from './fused-tensors.js';
import { fusedTypedPass } from './fused-typed.js';
import type { LstmSequenceResult, LstmState, LstmWeights } from './types.js';

/**
 * How the fused op runs its time loop: typed-array loops (CPU backends), tfjs ops per step (any
 * backend), or one WGSL dispatch per step (webgpu).
 */
export type FusedLoop = 'typed' | 'tensors' | 'webgpu';

/**
 * Typed-array loops where the data are in main memory (cpu, wasm); our WGSL step kernels on webgpu
 * (`INTRODL_WEBGPU_FUSED=0` falls back to tfjs ops, to compare); tfjs ops on other device backends.
 */
export function defaultFusedLoop(): FusedLoop {
  const backend = tf.getBackend();
  if (backend === 'cpu' || backend === 'wasm') return 'typed';
  if (backend === 'webgpu' && process.env.INTRODL_WEBGPU_FUSED !== '0') return 'webgpu';
  return 'tensors';
}

/**
 * The whole LSTM sequence as one differentiable op with a hand-written backward pass (tf.customGrad):
 * - forward: x·W + b for all time steps as one matmul, then per step h·U and the gates;
 * - backward (BPTT): per step dz and dz·Uᵀ; then dx = dZ·Wᵀ, dW = Xᵀ·dZ, dU = H₋₁ᵀ·dZ and db = Σ dZ,
 *   each one big matmul over all time steps;
 * - memory: only gates, c and h per step are kept for the backward pass, not a tape of every op.
 * Same results as {@link lstmSequencePlain} and `tf.layers.lstm` (tests: outputs and all gradients
 * within 1e-4 relative on the cpu and wasm backends).
 */
export function lstmSequenceFused(
  x: tf.Tensor3D,
  w: LstmWeights,
  initial: LstmState,
  loop: FusedLoop = defaultFusedLoop(),
): LstmSequenceResult {
  const [batch, time] = x.shape;
  const units = w.recurrentKernel.shape[0];
  const pass = loop === 'typed' ? fusedTypedPass : loop === 'webgpu' ? fusedWebGPUPass : fusedTensorsPass;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, kernel, recurrentKernel, bias, h0, c0] = args as [
      tf.Tensor3D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor2D,
    ];
    const save = args[6] as tf.GradSaveFunc;
    const run: FusedPass = pass(xs, { kernel, recurrentKernel, bias }, h0, c0);
    save(run.save);
    return { value: run.packed, gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => run.backward(dy, saved) };
  });
  return tf.tidy(() => {
    const packed = op(x, w.kernel, w.recurrentKernel, w.bias, initial.h, initial.c) as tf.Tensor3D;
    const outputs = tf.slice(packed, [0, 0, 0], [batch, time, units]);
    const h = tf.reshape(tf.slice(packed, [0, time - 1, 0], [batch, 1, units]), [batch, units]) as tf.Tensor2D;
    const c = tf.reshape(tf.slice(packed, [0, time, 0], [batch, 1, units]), [batch, units]) as tf.Tensor2D;
    return { outputs, state: { h, c } };
  });
}
