import * as tf from '@tensorflow/tfjs';
import { rmsNormWebGPU, swigluWebGPU } from './webgpu/norm-act.js';
import { fusedWebGPUActive } from './webgpu/runner.js';

/**
 * Transformer building blocks that run as fused kernels on webgpu (INTRODL_WEBGPU_FUSED=0 turns them
 * off) and as plain tfjs ops elsewhere; both differentiable, with the same results (tests: 1e-4).
 */

/** RMSNorm over the last axis: x / √(mean(x²) + ε) · w, with w of the last axis' size. */
export function rmsNorm<X extends tf.Tensor>(x: X, w: tf.Tensor, eps: number): X {
  if (fusedWebGPUActive() && x.dtype === 'float32') return rmsNormWebGPU(x, w, eps) as X;
  return tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), w)) as X;
}

/** SwiGLU's gating: silu(gate) · up = gate · σ(gate) · up. */
export function swiglu<X extends tf.Tensor>(gate: X, up: X): X {
  if (fusedWebGPUActive() && gate.dtype === 'float32') return swigluWebGPU(gate, up) as X;
  return tf.tidy(() => tf.mul(tf.mul(gate, tf.sigmoid(gate)), up)) as X;
}
