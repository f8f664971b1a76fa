import * as tf from '@tensorflow/tfjs';
import { backwardBuffers, groupBackward } from './lora-group-backward.js';
import {
  forwardInputs,
  forwardOutputs,
  forwardShader,
  type GroupVariant,
  MAX_GROUP,
  XA_SLOTS,
  XROW_SLOTS,
} from './lora-group-wgsl.js';
import { f32, fusedWebGPUFits, groups, launch, registerWebGPUKernel, words } from './runner.js';
import { numbered } from './wgsl.js';

/**
 * Several LoRA projections of the same input, y_p = x·W_pᵀ + s_p·(x·A_pᵀ)·B_pᵀ (a layer's q, k and v,
 * or gate and up), in one WebGPU dispatch forward and one or two backward for the whole group, where
 * one projection at a time takes two forward and four backward:
 * - forward: every y_p (the grid's z picks p), each workgroup computing its row's x·A_pᵀ first; the
 *   down-projections of all p are also written side by side in one [rows, N·r] buffer for backward;
 * - backward (lora-group-backward.ts): dx summed over every projection (no adds of per-projection
 *   gradients), every dA_p and dB_p, in one dispatch where the device binds all the buffers, else two.
 * The group can also take in what surrounds it in a transformer layer (see {@link LoraGroupOptions}):
 * the RMSNorm before it (its backward inside the group's where the buffers allow, else one more
 * dispatch), SwiGLU after gate and up or the residual add after o_proj and down_proj (none either way).
 * A thread per output element with plain loops, like the single projection's kernel. A shader binds
 * up to 4N + 4 storage buffers (16 for q, k, v with the norm): on a device with fewer, one
 * projection at a time.
 */

export { MAX_GROUP };

/** One projection of a group: frozen W [out, in], trained A [r, in] and B [out, r], and its scale. */
export interface LoraProjection {
  w: tf.Tensor2D;
  a: tf.Tensor2D;
  b: tf.Tensor2D;
  scale: number;
}

/** What else a group computes, in its own dispatches (each a no-op when absent). */
export interface LoraGroupOptions {
  /** RMSNorm of x first: x / √(mean(x²) + ε) · w (w [in]); its gradient flows back to x. */
  norm?: { w: tf.Tensor; eps: number };
  /** Added to the output of a group of one projection: a residual connection, res + x·Wᵀ + …. */
  residual?: tf.Tensor2D;
  /** A group of two projections of one size (gate, up) returns the one output silu(y_0)·y_1. */
  swiglu?: boolean;
  /**
   * With `norm`: x itself is returned too, last, to be the residual a later group adds: its
   * gradient from there is then added inside the norm's backward kernel, not by tfjs' own add.
   */
  passInput?: boolean;
}

/** The kernel variant for these options, or why they do not go together. */
export function groupVariant(n: number, options: LoraGroupOptions): GroupVariant {
  if (options.residual && n !== 1) throw new Error('a residual is added to a group of one projection');
  if (options.swiglu && n !== 2) throw new Error('SwiGLU takes a group of two projections (gate, up)');
  if (options.passInput && !options.norm) throw new Error('passInput goes with a norm');
  return {
    n,
    norm: options.norm !== undefined,
    residual: options.residual !== undefined,
    swiglu: !!options.swiglu,
    passInput: !!options.passInput,
  };
}

/** Storage buffers the group's widest kernel binds. */
function buffersOf(v: GroupVariant): number {
  return Math.max(forwardInputs(v).length + forwardOutputs(v).length, backwardBuffers(v));
}

/** Whether {@link loraGroupWebGPU} can run these projections of x (with these options) here. */
export function loraGroupFits(x: tf.Tensor2D, projections: LoraProjection[], options: LoraGroupOptions = {}): boolean {
  const n = projections.length;
  if (n < 1 || n > MAX_GROUP || x.dtype !== 'float32') return false;
  const v = groupVariant(n, options);
  if (!fusedWebGPUFits(buffersOf(v))) return false;
  const r = projections[0].a.shape[0];
  const out = projections[0].w.shape[0];
  return (
    (v.swiglu ? n : 1) * r <= XA_SLOTS &&
    (!v.swiglu || projections[1].w.shape[0] === out) &&
    (!options.residual || (options.residual.shape[0] === x.shape[0] && options.residual.shape[1] === out)) &&
    (!options.norm || options.norm.w.size === x.shape[1]) &&
    projections.every(
      (p) =>
        p.w.dtype === 'float32' && p.a.shape[0] === r && p.w.shape[1] === x.shape[1] && p.b.shape[0] === p.w.shape[0],
    )
  );
}

interface GroupAttrs extends GroupVariant {
  scales: number[];
  eps: number;
}

/** The uniform block every kernel of a group reads (lora-group-wgsl.ts' Params). */
function paramsOf(x: tf.TensorInfo, as: tf.TensorInfo[], ws: tf.TensorInfo[], attrs: GroupAttrs) {
  const [rows, inF] = x.shape;
  const r = as[0].shape[0];
  const outs = ws.map((w) => w.shape[0]);
  const pad = <T>(xs: T[], fill: T) => [...xs, ...Array(MAX_GROUP - xs.length).fill(fill)];
  const scales = attrs.scales.map((v) => f32(v));
  const uniforms = words(rows, inF, r, attrs.n, ...pad(outs, 0), ...pad(scales, f32(0)), f32(attrs.eps));
  return { rows, inF, r, outs, uniforms };
}

function register(v: GroupVariant): string {
  const { n } = v;
  const flags = `${v.norm ? '-norm' : ''}${v.residual ? '-residual' : ''}${v.swiglu ? '-swiglu' : ''}${v.passInput ? '-pass' : ''}`;
  const name = `IntrodlLoraGroup${n}${flags}`;
  const key = (part: string) => `introdl-lora-group-${part}-${n}${flags}`;
  const saved = ['x', ...numbered('a', n), ...numbered('b', n), ...numbered('w', n), ...(v.norm ? ['nw'] : [])];
  registerWebGPUKernel(
    {
      kernelName: name,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const get = (names: string[]) => names.map((k) => (inputs as Record<string, tf.TensorInfo>)[k]);
        const [x] = get(['x']);
        const [as, bs, ws] = [get(numbered('a', n)), get(numbered('b', n)), get(numbered('w', n))];
        const { rows, inF, r, outs, uniforms } = paramsOf(x, as, ws, attrs as unknown as GroupAttrs);
        const shapes = [
          ...(v.swiglu
            ? [
                [rows, 2 * outs[0]],
                [rows, outs[0]],
              ]
            : outs.map((out) => [rows, out])),
          [rows, n * r],
          ...(v.norm ? [[rows, inF]] : []),
        ];
        const staged = inF <= XROW_SLOTS;
        const outputs = launch(
          backend as never,
          key(staged ? 'forward-staged' : 'forward'),
          () => forwardShader(v, staged),
          {
            inputs: [x, ...get(v.norm ? ['nw'] : []), ...ws, ...as, ...bs, ...get(v.residual ? ['res'] : [])],
            outputs: shapes,
            uniforms,
            workgroups: [groups(Math.max(...outs)), rows, v.swiglu ? 1 : n],
          },
        );
        if (!v.passInput) return outputs;
        // x as an output of its own: the same buffer, one more reference (as tfjs' reshape does).
        (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
        return [...outputs, { dataId: x.dataId, shape: x.shape, dtype: x.dtype }];
      },
    },
    {
      kernelName: name,
      inputsToSave: saved,
      // SwiGLU's backward needs gate and up; every backward the down-projections (and x̂).
      outputsToSave: [
        ...(v.swiglu ? [true, false] : Array(n).fill(false)),
        true,
        ...(v.norm ? [true] : []),
        ...(v.passInput ? [false] : []),
      ],
      gradFunc: (dys, savedTensors, attrs) => {
        const all = dys as tf.Tensor[];
        let at = 0;
        const take = (count: number) => {
          at += count;
          return savedTensors.slice(at - count, at);
        };
        const [x] = take(1);
        const [as, bs, ws] = [take(n), take(n), take(n)];
        const [nw] = take(v.norm ? 1 : 0);
        const gu = take(v.swiglu ? 1 : 0);
        const [downs] = take(1);
        const [xn] = take(v.norm ? 1 : 0);
        const a = attrs as unknown as GroupAttrs;
        const { rows, inF, r, outs, uniforms } = paramsOf(x, as, ws, a);
        const dy = v.swiglu ? [all[1], ...gu] : all.slice(0, n);
        const passed = v.passInput ? all[all.length - 1] : undefined;
        // Here, not in the lazy functions (tfjs runs each of those in a tidy of its own).
        const { dx, da, db, dxn } = groupBackward(v, key, {
          ...{ x, xn, nw, as, bs, ws, downs, dy, passed, eps: a.eps },
          ...{ uniforms, rows, inF, r, outs },
        });
        const grads: Record<string, () => tf.Tensor> = { x: () => dx };
        da.forEach((t, q) => {
          grads[`a${q}`] = () => t;
        });
        db.forEach((t, q) => {
          grads[`b${q}`] = () => t;
        });
        // The base weights are frozen; nothing asks for their gradient.
        ws.forEach((w, q) => {
          grads[`w${q}`] = () => tf.zerosLike(w);
        });
        if (nw && dxn) {
          // Only where the norm's weight trains (never in Lab 3): Σ_rows dx̂·x·r, with tfjs ops.
          grads.nw = () => {
            const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), a.eps));
            return tf.reshape(tf.sum(tf.mul(tf.mul(dxn(), x), rstd), 0), nw.shape);
          };
        }
        if (v.residual) grads.res = () => tf.clone(all[0]);
        return grads;
      },
    },
  );
  return name;
}

/**
 * Every y_p = x·W_pᵀ + s_p·(x·A_pᵀ)·B_pᵀ on webgpu, with what `options` adds (check
 * {@link loraGroupFits}); differentiable in x, A_p, B_p (and the norm's weight and the residual).
 */
export function loraGroupWebGPU(
  x: tf.Tensor2D,
  projections: LoraProjection[],
  options: LoraGroupOptions = {},
): tf.Tensor2D[] {
  const n = projections.length;
  const v = groupVariant(n, options);
  const name = register(v);
  const inputs: Record<string, tf.Tensor> = { x };
  projections.forEach((p, q) => {
    inputs[`a${q}`] = p.a;
    inputs[`b${q}`] = p.b;
    inputs[`w${q}`] = p.w;
  });
  if (options.norm) inputs.nw = options.norm.w;
  if (options.residual) inputs.res = options.residual;
  const attrs = { ...v, scales: projections.map((p) => p.scale), eps: options.norm?.eps ?? 0 };
  const out = tf.engine().runKernel(name, inputs, attrs as never) as tf.Tensor[];
  // Returned: the projections, or SwiGLU's product (and x passed through); the rest only serves
  // the backward pass.
  const returned = [...(v.swiglu ? [out[1]] : out.slice(0, n)), ...(v.passInput ? [out[out.length - 1]] : [])];
  for (const t of out) if (!returned.includes(t)) t.dispose();
  return returned as tf.Tensor2D[];
}
