import type * as tf from '@tensorflow/tfjs';

/** Gradients of the fused op's inputs, in order: x, kernel, recurrent kernel, bias, h0, c0. */
export type LstmGradients = [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor2D];

/**
 * What the tensor passes (tfjs ops, WebGPU) save for backward: x, the kernel and the recurrent
 * kernel, then three per-step tensors of their own (activated gates, cell states, previous h's).
 */
export type LstmSaved = [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];

/**
 * One forward pass of the fused LSTM and how to go back through it. `packed` is [B, T+1, u]: the h of
 * every step, then the last c. `save` lists the tensors backward needs (tfjs keeps them only while
 * a gradient is being recorded); `backward` gets dL/dpacked and those tensors.
 */
export interface FusedPass {
  packed: tf.Tensor3D;
  save: tf.Tensor[];
  backward: (dy: tf.Tensor3D, saved: tf.Tensor[]) => LstmGradients;
}
