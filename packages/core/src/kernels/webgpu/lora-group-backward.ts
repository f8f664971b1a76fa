import type * as tf from '@tensorflow/tfjs';
import {
  backwardInputs,
  backwardOutputs,
  backwardShader,
  ddownDbShader,
  dxDaInputs,
  dxDaOutputs,
  dxDaShader,
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
  /** dy_q for every projection, or for SwiGLU [d(act), gate, up]. */
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
 * RMSNorm's backward included (o_proj, down_proj on llvmpipe's 16), else two (q/k/v, gate/up), the
 * norm's backward inside the second where it fits (gate/up) or in a dispatch of its own (q/k/v).
 * `key(part)` names the pipelines.
 */
export function groupBackward(v: GroupVariant, key: (part: string) => string, g: GroupBackwardInputs): GroupGradients {
  const be = webgpuBackend();
  const { n } = v;
  const limit = maxStorageBuffers(be);
  const { dy, as, bs, ws, downs, x, nw, passed, uniforms, rows, inF, r, outs } = g;
  const xs = g.xn ?? x;
  const normInputs = (withNorm: boolean) => (withNorm && nw ? [x, nw, ...(passed ? [passed] : [])] : []);
  const fits = (buffers: number) => limit >= buffers;
  const fromTensors = (infos: tf.TensorInfo[]) => infos.map((t) => toTensor(t));

  const ddownDb = () =>
    fromTensors(
      launch(be, key('ddown-db'), () => ddownDbShader(v), {
        inputs: [...dy, ...bs, downs],
        outputs: [[rows, n * r], ...bs.map((b) => b.shape)],
        uniforms,
        workgroups: [groups(n * r), Math.max(rows, ...outs), 1 + n],
      }),
    );
  const dxDa = (ddowns: tf.Tensor, withNorm: boolean) =>
    fromTensors(
      launch(be, key(withNorm ? 'dx-da-inline' : 'dx-da'), () => dxDaShader(v, withNorm), {
        inputs: [...dy, ...ws, ddowns, ...as, xs, ...normInputs(withNorm)],
        outputs: [[rows, inF], ...as.map((t) => t.shape)],
        uniforms,
        workgroups: [groups(inF), Math.max(rows, r), 1 + n],
      }),
    );
  // The gradient at x̂ by the two plain kernels, for the norm weight's gradient where the norm's
  // backward went inline (and x̂'s gradient only ever lived in dx): only when asked.
  const dxnAgain = () => {
    const [ddowns, ...db] = ddownDb();
    const [again, ...da] = dxDa(ddowns, false);
    for (const t of [ddowns, ...db, ...da]) t.dispose();
    return again;
  };

  const single = n * r <= XA_SLOTS && fits(backwardInputs(v, v.norm).length + backwardOutputs(v).length);
  if (single) {
    const [dx, ...rest] = fromTensors(
      launch(be, key(v.norm ? 'backward-inline' : 'backward'), () => backwardShader(v, v.norm), {
        inputs: [...dy, ...bs, ...ws, ...as, downs, xs, ...normInputs(v.norm)],
        outputs: [[rows, inF], ...as.map((t) => t.shape), ...bs.map((t) => t.shape)],
        uniforms,
        workgroups: [Math.max(groups(inF), groups(r)), Math.max(rows, r, ...outs), 1 + 2 * n],
      }),
    );
    return { dx, da: rest.slice(0, n), db: rest.slice(n), dxn: v.norm ? dxnAgain : undefined };
  }
  const inline = v.norm && fits(dxDaInputs(v, true).length + dxDaOutputs(v).length);
  const [ddowns, ...db] = ddownDb();
  const [dxOut, ...da] = dxDa(ddowns, inline);
  ddowns.dispose();
  if (!nw || inline) return { dx: dxOut, da, db, dxn: nw ? dxnAgain : undefined };
  // The norm's backward after: dxOut is the gradient at x̂.
  const dx = toTensor(rmsNormInputGradient(dxOut, x, nw, g.eps, passed));
  return { dx, da, db, dxn: () => dxOut };
}
