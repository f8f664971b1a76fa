import * as tf from '@tensorflow/tfjs';
import type { FusedPass, LstmGradients, LstmSaved } from '../lstm/fused-pass.js';
import { projectInputs } from '../lstm/plain.js';
import type { LstmWeights } from '../lstm/types.js';
import { LSTM_BACKWARD_WGSL, LSTM_FORWARD_WGSL, LSTM_ROWS } from './lstm-wgsl.js';
import { allocate, dispatchSteps, groups, stepPipelineFor, toTensor, webgpuBackend, words } from './runner.js';

/**
 * The fused LSTM on the webgpu backend: the input projection for all steps as one matmul, then one
 * dispatch per time step forward (recurrent matmul + gates + state update) and one per step backward
 * (dz·Uᵀ + gate gradients), then the weight gradients as one matmul each. The per-step state lives
 * in buffers the step kernels read and write in place; nothing is read back to the CPU. Each time
 * loop is recorded at once ({@link dispatchSteps}): one bind group and one uniform upload per loop.
 */
export function fusedWebGPUPass(x: tf.Tensor3D, w: LstmWeights, h0: tf.Tensor2D, c0: tf.Tensor2D): FusedPass {
  const backend = webgpuBackend();
  const [batch, time, inputs] = x.shape;
  const units = w.recurrentKernel.shape[0];
  const u4 = 4 * units;
  const xp = tf.reshape(projectInputs(tf.reshape(x, [batch * time, inputs]), w), [batch, time, u4]);
  const packed = allocate(backend, [batch, time + 1, units]);
  const gates = allocate(backend, [time, batch, u4]);
  const cs = allocate(backend, [time + 1, batch, units]);
  const hprev = allocate(backend, [batch, time, units]);
  const workgroups: [number, number] = [groups(units, 8), groups(batch, LSTM_ROWS)];
  dispatchSteps(backend, {
    pipeline: stepPipelineFor(backend, 'introdl-lstm-forward', () => LSTM_FORWARD_WGSL),
    buffers: [xp, w.recurrentKernel, h0, c0, packed, gates, cs, hprev],
    steps: Array.from({ length: time }, (_, t) => words(batch, time, units, t)),
    workgroups,
  });
  xp.dispose();
  const saved = [x, w.kernel, w.recurrentKernel, toTensor(gates), toTensor(cs), toTensor(hprev)];

  const backward = (dy: tf.Tensor3D, keep: tf.Tensor[]): LstmGradients => {
    const [xs, kernel, recurrentKernel, gs, cells, hp] = keep as LstmSaved;
    return tf.tidy(() => {
      const be = webgpuBackend();
      const rkT = tf.transpose(recurrentKernel);
      const dzInfo = allocate(be, [batch, time, u4]);
      const dcInfo = allocate(be, [batch, units]);
      const dh0Info = allocate(be, [batch, units]);
      // Steps T−1 … 0, then the final one that only computes dh0.
      dispatchSteps(be, {
        pipeline: stepPipelineFor(be, 'introdl-lstm-backward', () => LSTM_BACKWARD_WGSL),
        buffers: [dy, rkT, gs, cells, dzInfo, dcInfo, dh0Info],
        steps: Array.from({ length: time + 1 }, (_, i) => {
          const t = time - 1 - i;
          return words(batch, time, units, Math.max(t, 0), t < 0 ? 1 : 0);
        }),
        workgroups,
      });
      const dz = tf.reshape(toTensor(dzInfo), [batch * time, u4]) as tf.Tensor2D;
      return [
        tf.reshape(tf.matMul(dz, kernel, false, true), [batch, time, inputs]),
        tf.matMul(tf.reshape(xs, [batch * time, inputs]), dz, true, false),
        tf.matMul(tf.reshape(hp, [batch * time, units]), dz, true, false),
        tf.sum(dz, 0),
        toTensor(dh0Info),
        toTensor(dcInfo),
      ] as LstmGradients;
    });
  };
  return { packed: toTensor(packed), save: saved, backward };
}
