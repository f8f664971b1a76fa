import * as tf from '@tensorflow/tfjs';
import type { FusedPass, LstmGradients, LstmSaved } from './fused-pass.js';
import { projectInputs } from './plain.js';
import type { LstmWeights } from './types.js';

/**
 * The fused LSTM with tfjs ops for the per-step gate math, for backends whose data live on a device
 * (webgpu, webgl, tensorflow), where reading values back every step would stall. Same algorithm as
 * the typed-array pass: one input-projection matmul, the recurrence, then backpropagation through
 * time keeping only gates and c per step, with the weight gradients as single big matmuls.
 */
export function fusedTensorsPass(x: tf.Tensor3D, w: LstmWeights, h0: tf.Tensor2D, c0: tf.Tensor2D): FusedPass {
  const [batch, time, inputs] = x.shape;
  const units = w.recurrentKernel.shape[0];
  const u4 = 4 * units;
  const xp = tf.reshape(projectInputs(tf.reshape(x, [batch * time, inputs]), w), [batch, time, u4]);
  const gateList: tf.Tensor2D[] = [];
  const cList: tf.Tensor2D[] = [c0];
  const hList: tf.Tensor2D[] = [h0];
  for (let t = 0; t < time; t++) {
    const [g, c, h] = tf.tidy(() => {
      const z = tf.add(
        tf.reshape(tf.slice(xp, [0, t, 0], [batch, 1, u4]), [batch, u4]),
        tf.matMul(hList[t], w.recurrentKernel),
      );
      const [zi, zf, zc, zo] = tf.split(z, 4, 1);
      const i = tf.sigmoid(zi);
      const f = tf.sigmoid(zf);
      const gg = tf.tanh(zc);
      const o = tf.sigmoid(zo);
      const c = tf.add(tf.mul(f, cList[t]), tf.mul(i, gg)) as tf.Tensor2D;
      return [tf.concat([i, f, gg, o], 1) as tf.Tensor2D, c, tf.mul(o, tf.tanh(c)) as tf.Tensor2D];
    });
    gateList.push(g);
    cList.push(c);
    hList.push(h);
  }
  const gatesAll = tf.stack(gateList) as tf.Tensor3D; // [T, B, 4u]
  const cAll = tf.stack(cList) as tf.Tensor3D; // [T+1, B, u]
  const hAll = tf.stack(hList) as tf.Tensor3D; // [T+1, B, u]
  const packed = tf.concat([tf.stack(hList.slice(1), 1), tf.reshape(cList[time], [batch, 1, units])], 1) as tf.Tensor3D;
  tf.dispose([xp, ...gateList, ...cList.slice(1), ...hList.slice(1)]);

  const backward = (dy: tf.Tensor3D, saved: tf.Tensor[]): LstmGradients => {
    const [xs, kernel, recurrentKernel, gs, cs, hs] = saved as LstmSaved;
    return tf.tidy(() => {
      const recurrentT = tf.transpose(recurrentKernel);
      const step = (a: tf.Tensor3D, t: number, width: number) =>
        tf.reshape(tf.slice(a, [t, 0, 0], [1, batch, width]), [batch, width]) as tf.Tensor2D;
      let dhNext: tf.Tensor2D = tf.zeros([batch, units]);
      let dc: tf.Tensor2D = tf.reshape(tf.slice(dy, [0, time, 0], [batch, 1, units]), [batch, units]);
      const dzList: tf.Tensor2D[] = [];
      for (let t = time - 1; t >= 0; t--) {
        const [dz, dcPrev, dhPrev] = tf.tidy(() => {
          const dh = tf.add(dhNext, tf.reshape(tf.slice(dy, [0, t, 0], [batch, 1, units]), [batch, units]));
          const [i, f, g, o] = tf.split(step(gs, t, u4), 4, 1);
          const tc = tf.tanh(step(cs, t + 1, units));
          const dcv = tf.add(dc, tf.mul(tf.mul(dh, o), tf.sub(1, tf.square(tc))));
          const dz = tf.concat(
            [
              tf.mul(tf.mul(dcv, g), tf.mul(i, tf.sub(1, i))),
              tf.mul(tf.mul(dcv, step(cs, t, units)), tf.mul(f, tf.sub(1, f))),
              tf.mul(tf.mul(dcv, i), tf.sub(1, tf.square(g))),
              tf.mul(tf.mul(dh, tc), tf.mul(o, tf.sub(1, o))),
            ],
            1,
          ) as tf.Tensor2D;
          return [dz, tf.mul(dcv, f) as tf.Tensor2D, tf.matMul(dz, recurrentT)];
        });
        tf.dispose([dc, dhNext]);
        dc = dcPrev;
        dhNext = dhPrev;
        dzList.push(dz);
      }
      dzList.reverse();
      const dz = tf.reshape(tf.stack(dzList, 1), [batch * time, u4]) as tf.Tensor2D; // rows (b, t)
      const hPrev = tf.reshape(tf.transpose(tf.slice(hs, [0, 0, 0], [time, batch, units]), [1, 0, 2]), [
        batch * time,
        units,
      ]);
      return [
        tf.reshape(tf.matMul(dz, kernel, false, true), [batch, time, inputs]),
        tf.matMul(tf.reshape(xs, [batch * time, inputs]), dz, true, false),
        tf.matMul(hPrev, dz, true, false),
        tf.sum(dz, 0),
        dhNext,
        dc,
      ] as LstmGradients;
    });
  };
  return { packed, save: [x, w.kernel, w.recurrentKernel, gatesAll, cAll, hAll], backward };
}
