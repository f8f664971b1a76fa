import * as tf from '@tensorflow/tfjs';
import type { LstmSequenceResult, LstmState, LstmWeights } from './types.js';

/** x·W + b for every row of x: the input's share of the gate pre-activations, [N, 4u]. */
export function projectInputs(x2d: tf.Tensor2D, w: LstmWeights): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(x2d, w.kernel), w.bias));
}

/**
 * The LSTM written plainly: tfjs ops for each time step, differentiated by tfjs' autograd. Slow and
 * memory-hungry at Lab 1's size (the tape keeps every step's intermediates), but obviously right:
 * it is the reference the fused op is tested against, and `fused: false` / `INTRODL_FUSED=0` use it.
 * Only the input projection is hoisted out of the loop (one matmul for all time steps).
 */
export function lstmSequencePlain(x: tf.Tensor3D, w: LstmWeights, initial: LstmState): LstmSequenceResult {
  const [batch, time, inputs] = x.shape;
  const u4 = w.recurrentKernel.shape[1];
  const { outputs, h, c } = tf.tidy(() => {
    const xp = tf.reshape(projectInputs(tf.reshape(x, [batch * time, inputs]), w), [batch, time, u4]);
    // One unstack rather than a slice per step: a slice's gradient is a zero-padded copy of the
    // whole sequence, and tfjs keeps every step's until the backward pass ends. (tfjs cannot
    // differentiate an unstack into one piece, hence the reshape for one step.)
    const xs = time === 1 ? [tf.reshape(xp, [batch, u4]) as tf.Tensor2D] : (tf.unstack(xp, 1) as tf.Tensor2D[]);
    let h: tf.Tensor2D = initial.h;
    let c: tf.Tensor2D = initial.c;
    const steps: tf.Tensor2D[] = [];
    for (let t = 0; t < time; t++) {
      const z = tf.add(xs[t], tf.matMul(h, w.recurrentKernel));
      const [zi, zf, zc, zo] = tf.split(z, 4, 1);
      c = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zc)));
      h = tf.mul(tf.sigmoid(zo), tf.tanh(c));
      steps.push(h);
    }
    return { outputs: tf.stack(steps, 1) as tf.Tensor3D, h, c };
  });
  return { outputs, state: { h, c } };
}
