import type * as tf from '@tensorflow/tfjs';
import {
  backwardInputs,
  backwardOutputs,
  backwardShader,
  inputInputs,
  inputShader,
  weightsInputs,
  weightsOutputs,
  weightsShader,
} from './lora-group-backward-wgsl.js';
import { type GroupVariant, XA_SLOTS } from './lora-group-wgsl.js';
import { rmsNormInputGradient } from './norm-act.js';
import { groups, launch, maxStorageBuffers, toTensor, webgpuBackend } from './runner.js';

/** What a group's backward pass reads: the forward's saved tensors and the outputs' gradients. */
export interface GroupBackwardInputs {
  /** The group's input (the norm's input with the norm). */
  x: tf.Tensor;
  /** x̂, the normalized input the projections saw (with the norm). */
  xn?: tf.Tensor;
  /** The norm's weight (with the norm). */
  nw?: tf.Tensor;
  as: tf.Tensor[];
  bs: tf.Tensor[];
  ws: tf.Tensor[];
  downs: tf.Tensor;
  /** dy_q for every projection, or for SwiGLU [d(act), gate and up in one [rows, 2·out]]. */
  dy: tf.Tensor[];
  /** The gradient of x passed through (passInput). */
  passed?: tf.Tensor;
  eps: number;
  uniforms: ArrayBuffer;
  rows: number;
  inF: number;
  r: number;
  outs: number[];
}

/** The gradients of a group's inputs, as tensors; the norm weight's computed only if asked. */
export interface GroupGradients {
  dx: tf.Tensor;
  da: tf.Tensor[];
  db: tf.Tensor[];
  /** The gradient at x̂ (for the norm weight's), with the norm. */
  dxn?: () => tf.Tensor;
}

/**
 * Records a group's backward pass: one dispatch where the device binds all its buffers, the
 * RMSNorm's backward included (o_proj, down_proj on llvmpipe's 16), else two (q/k/v, gate/up:
 * the weights' gradients, then x's with the norm's backward inside where it fits, or in a dispatch
 * of its own after). `key(part)` names the pipelines.
 */
export function groupBackward(v: GroupVariant, key: (part: string) => string, g: GroupBackwardInputs): GroupGradients {
  const be = webgpuBackend();
  const { n } = v;
  const limit = maxStorageBuffers(be);
  const { dy, as, bs, ws, downs, x, nw, passed, uniforms, rows, inF, r, outs } = g;
  const xs = g.xn ?? x;
  const normInputs = (withNorm: boolean) => (withNorm && nw ? [x, nw, ...(passed ? [passed] : [])] : []);
  const fromTensors = (infos: tf.TensorInfo[]) => infos.map((t) => toTensor(t));
  // dA's workgroups: 64 columns of x by one l; dB's threads: l by a row of B.
  const x64 = Math.max(groups(inF), groups(n * r), ...outs.map((out) => groups(out)));
  const y = Math.max(rows, r, ...outs);

  const weights = () =>
    fromTensors(
      launch(be, key('weights'), () => weightsShader(v), {
        inputs: [...dy, ...bs, downs, xs],
        outputs: [[rows, n * r], ...bs.map((b) => b.shape), ...as.map((a) => a.shape)],
        uniforms,
        workgroups: [x64, y, 1 + 2 * n],
      }),
    );
  const input = (ddowns: tf.Tensor, withNorm: boolean) =>
    toTensor(
      launch(be, key(withNorm ? 'input-inline' : 'input'), () => inputShader(v, withNorm), {
        inputs: [...dy, ...ws, ddowns, ...as, ...normInputs(withNorm)],
        outputs: [[rows, inF]],
        uniforms,
        workgroups: withNorm ? [1, rows] : [groups(inF), rows],
      })[0],
    );
  // The gradient at x̂ by the plain kernels, for the norm weight's gradient where the norm's
  // backward went inline (and x̂'s gradient only ever lived in dx): only when asked.
  const dxnAgain = () => {
    const [ddowns, ...rest] = weights();
    const again = input(ddowns, false);
    for (const t of [ddowns, ...rest]) t.dispose();
    return again;
  };

  const single = n * r <= XA_SLOTS && limit >= backwardInputs(v, v.norm).length + backwardOutputs(v).length;
  if (single) {
    const [dx, ...rest] = fromTensors(
      launch(be, key(v.norm ? 'backward-inline' : 'backward'), () => backwardShader(v, v.norm), {
        inputs: [...dy, ...bs, ...ws, ...as, ...(v.norm ? normInputs(true) : [xs])],
        outputs: [[rows, inF], ...as.map((t) => t.shape), ...bs.map((t) => t.shape)],
        uniforms,
        workgroups: [x64, y, 1 + 2 * n],
      }),
    );
    return { dx, da: rest.slice(0, n), db: rest.slice(n), dxn: v.norm ? dxnAgain : undefined };
  }
  const inline = v.norm && limit >= inputInputs(v, true).length + 1;
  const [ddowns, ...rest] = weights();
  const dxOut = input(ddowns, inline);
  ddowns.dispose();
  const [db, da] = [rest.slice(0, n), rest.slice(n)];
  if (!nw || inline) return { dx: dxOut, da, db, dxn: nw ? dxnAgain : undefined };
  // The norm's backward after: dxOut is the gradient at x̂.
  const dx = toTensor(rmsNormInputGradient(dxOut, x, nw, g.eps, passed));
  return { dx, da, db, dxn: () => dxOut };
}

/** Storage buffers the widest of a group's backward kernels binds, as few as the device allows. */
export function backwardBuffers(v: GroupVariant): number {
  return Math.max(weightsInputs(v).length + weightsOutputs(v).length, inputInputs(v).length + 1);
}
