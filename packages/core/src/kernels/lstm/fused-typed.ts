import * as tf from '@tensorflow/tfjs';
import type { FusedPass, LstmGradients } from './fused-pass.js';
import { gatesBackward, gatesForward } from './gates.js';
import { projectInputs } from './plain.js';
import type { LstmWeights } from './types.js';

/** a [rows, cols] (a typed array) times b, by the backend's matmul; returns the product's values. */
function matMulValues(a: Float32Array, rows: number, cols: number, b: tf.Tensor2D): Float32Array {
  const at = tf.tensor2d(a, [rows, cols]);
  const product = tf.matMul(at, b);
  const values = product.dataSync() as Float32Array;
  at.dispose();
  product.dispose();
  return values;
}

/**
 * The fused LSTM on a CPU backend (cpu, wasm): the matmuls go to the backend (wasm's XNNPACK), the
 * per-step gate math runs as typed-array loops over values read once, and backpropagation keeps only
 * gates, c, tanh(c) and h per step, in typed arrays (no tape, no per-step tensors).
 *
 * Time-major scratch: hs, cs are [T+1, B, u] (row 0 is the initial state), gates [T, B, 4u].
 */
export function fusedTypedPass(x: tf.Tensor3D, w: LstmWeights, h0: tf.Tensor2D, c0: tf.Tensor2D): FusedPass {
  const [batch, time, inputs] = x.shape;
  const units = w.recurrentKernel.shape[0];
  const u4 = 4 * units;
  const bu = batch * units;
  const xpTensor = projectInputs(tf.reshape(x, [batch * time, inputs]), w);
  const xp = xpTensor.dataSync() as Float32Array;
  xpTensor.dispose();
  const hs = new Float32Array((time + 1) * bu);
  const cs = new Float32Array((time + 1) * bu);
  const tanhC = new Float32Array(time * bu);
  const gates = new Float32Array(time * batch * u4);
  hs.set(h0.dataSync());
  cs.set(c0.dataSync());
  const z = new Float32Array(batch * u4);
  for (let t = 0; t < time; t++) {
    const r = matMulValues(hs.subarray(t * bu, (t + 1) * bu), batch, units, w.recurrentKernel);
    for (let b = 0; b < batch; b++) {
      const src = (b * time + t) * u4;
      const dst = b * u4;
      for (let k = 0; k < u4; k++) z[dst + k] = xp[src + k] + r[dst + k];
    }
    gatesForward(
      z,
      cs.subarray(t * bu, (t + 1) * bu),
      gates.subarray(t * batch * u4, (t + 1) * batch * u4),
      cs.subarray((t + 1) * bu, (t + 2) * bu),
      tanhC.subarray(t * bu, (t + 1) * bu),
      hs.subarray((t + 1) * bu, (t + 2) * bu),
      batch,
      units,
    );
  }
  // Packed output [B, T+1, u]: every step's h, then the last c (customGrad allows one output).
  const packed = new Float32Array(batch * (time + 1) * units);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < time; t++) {
      packed.set(hs.subarray((t + 1) * bu + b * units, (t + 1) * bu + (b + 1) * units), (b * (time + 1) + t) * units);
    }
    packed.set(cs.subarray(time * bu + b * units, time * bu + (b + 1) * units), (b * (time + 1) + time) * units);
  }

  const backward = (dy: tf.Tensor3D, saved: tf.Tensor[]): LstmGradients => {
    const [xs, kernel, recurrentKernel] = saved as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];
    const dY = dy.dataSync() as Float32Array;
    const dh = new Float32Array(bu);
    const dc = new Float32Array(bu);
    for (let b = 0; b < batch; b++) {
      dc.set(dY.subarray((b * (time + 1) + time) * units, (b * (time + 1) + time + 1) * units), b * units);
    }
    const dZ = new Float32Array(batch * time * u4); // batch-major rows (b, t), as x's rows
    const dzt = new Float32Array(batch * u4);
    let dhNext: Float32Array = new Float32Array(bu); // dL/dh_t through the recurrence, from step t+1
    const recurrentT = tf.transpose(recurrentKernel);
    for (let t = time - 1; t >= 0; t--) {
      for (let b = 0; b < batch; b++) {
        const src = (b * (time + 1) + t) * units;
        for (let j = 0; j < units; j++) dh[b * units + j] = dhNext[b * units + j] + dY[src + j];
      }
      gatesBackward(
        dh,
        dc,
        gates.subarray(t * batch * u4, (t + 1) * batch * u4),
        cs.subarray(t * bu, (t + 1) * bu),
        tanhC.subarray(t * bu, (t + 1) * bu),
        dzt,
        batch,
        units,
      );
      for (let b = 0; b < batch; b++) dZ.set(dzt.subarray(b * u4, (b + 1) * u4), (b * time + t) * u4);
      dhNext = matMulValues(dzt, batch, u4, recurrentT);
    }
    recurrentT.dispose();
    // h_{t−1} for every row (b, t) of dZ, laid out transposed ([u, B·T]) so dU is a plain matmul.
    const hPrevT = new Float32Array(units * batch * time);
    for (let t = 0; t < time; t++) {
      for (let b = 0; b < batch; b++) {
        const row = b * time + t;
        const src = t * bu + b * units;
        for (let j = 0; j < units; j++) hPrevT[j * batch * time + row] = hs[src + j];
      }
    }
    return tf.tidy(() => {
      const dz = tf.tensor2d(dZ, [batch * time, u4]);
      const x2d = tf.reshape(xs, [batch * time, inputs]);
      return [
        tf.reshape(tf.matMul(dz, kernel, false, true), [batch, time, inputs]),
        tf.matMul(x2d, dz, true, false),
        tf.matMul(tf.tensor2d(hPrevT, [units, batch * time]), dz),
        tf.sum(dz, 0),
        tf.tensor2d(dhNext, [batch, units]),
        tf.tensor2d(dc, [batch, units]),
      ] as LstmGradients;
    });
  };
  return { packed: tf.tensor3d(packed, [batch, time + 1, units]), save: [x, w.kernel, w.recurrentKernel], backward };
}
