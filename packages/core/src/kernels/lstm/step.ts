import * as tf from '@tensorflow/tfjs';
import { defaultFusedLoop, type FusedLoop } from './fused.js';
import { gatesForward } from './gates.js';
import type { LstmState } from './types.js';

/**
 * One LSTM step for generation, from the input's share of the pre-activations `zx` = x·W + b
 * ([B, 4u]; precompute it once per vocabulary entry when the input is an embedding) and the state.
 * Not differentiable: on the CPU backends the gates are a typed-array loop over values read back.
 * The caller owns (and disposes) both the state passed in and the state returned.
 */
export function lstmStepProjected(
  zx: tf.Tensor2D,
  recurrentKernel: tf.Tensor2D,
  state: LstmState,
  loop: FusedLoop = defaultFusedLoop(),
): LstmState {
  const [batch, u4] = zx.shape;
  const units = u4 / 4;
  if (loop !== 'typed') {
    return tf.tidy(() => {
      const z = tf.add(zx, tf.matMul(state.h, recurrentKernel));
      const [zi, zf, zc, zo] = tf.split(z, 4, 1);
      const c = tf.add(tf.mul(tf.sigmoid(zf), state.c), tf.mul(tf.sigmoid(zi), tf.tanh(zc))) as tf.Tensor2D;
      return { h: tf.mul(tf.sigmoid(zo), tf.tanh(c)) as tf.Tensor2D, c };
    });
  }
  const zt = tf.tidy(() => tf.add(zx, tf.matMul(state.h, recurrentKernel)));
  const z = zt.dataSync() as Float32Array;
  zt.dispose();
  const h = new Float32Array(batch * units);
  const c = new Float32Array(batch * units);
  const tanhC = new Float32Array(batch * units);
  const gates = new Float32Array(batch * u4);
  gatesForward(z, state.c.dataSync() as Float32Array, gates, c, tanhC, h, batch, units);
  return { h: tf.tensor2d(h, [batch, units]), c: tf.tensor2d(c, [batch, units]) };
}
