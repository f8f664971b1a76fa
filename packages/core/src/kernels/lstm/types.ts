import type * as tf from '@tensorflow/tfjs';

/**
 * An LSTM's weights in Keras' layout: `kernel` [inputs, 4u], `recurrentKernel` [u, 4u], `bias` [4u],
 * each split in four blocks of u columns in the gate order (i, f, c, o).
 */
export interface LstmWeights {
  kernel: tf.Tensor2D;
  recurrentKernel: tf.Tensor2D;
  bias: tf.Tensor1D;
}

/** The recurrent state carried from one time step to the next: h and c, each [batch, units]. */
export interface LstmState {
  h: tf.Tensor2D;
  c: tf.Tensor2D;
}

/** What running an LSTM over a sequence gives: every step's h ([batch, time, units]) and the last state. */
export interface LstmSequenceResult {
  outputs: tf.Tensor3D;
  state: LstmState;
}
