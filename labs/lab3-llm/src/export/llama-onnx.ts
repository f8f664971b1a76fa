import { onnxAttr as a, BadFlagError, OnnxGraph, tf } from '@introdl/core';
import { type LlamaConfig, type Projection, projectionModule } from '../model/config.js';
import type { LlamaModel } from '../model/llama.js';
import { inverseFrequencies } from '../model/rope.js';

/**
 * The Llama-family decoder as one ONNX graph with a KV cache, in the layout Optimum exports and
 * transformers.js runs (`text-generation` with past):
 *
 *   inputs   input_ids [batch_size, sequence_length] int64
 *            attention_mask [batch_size, total_sequence_length] int64
 *            position_ids [batch_size, sequence_length] int64
 *            past_key_values.<l>.key / .value [batch_size, kv_heads, past_sequence_length, head_dim]
 *   outputs  logits [batch_size, sequence_length, vocab]
 *            present.<l>.key / .value [batch_size, kv_heads, total_sequence_length, head_dim]
 *
 * The first call passes an empty past (length 0). The computation is the tfjs model's
 * ({@link LlamaModel.forward}) step for step: RMSNorm as x·rsqrt(mean(x²)+ε)·w, rotate-half RoPE with
 * float32 angles position·inv_freq, grouped-query attention with query heads grouped per key/value
 * head, SwiGLU. Adapters must be merged into the weights first (the graph reads base weights only).
 */

/** Architectures whose forward pass the graph reproduces. */
export const LLAMA_FAMILY: readonly string[] = ['llama', 'llama2c', 'mistral', 'qwen2'];

/** Features of other decoders (Gemma, Qwen3, LFM2, sliding windows) the graph does not compute. */
function unsupportedFeatures(c: LlamaConfig): string[] {
  const out: string[] = [];
  if (c.qkNorm) out.push('q/k norms');
  if (c.embedScale !== undefined && c.embedScale !== 1) out.push('embedding scale');
  if (c.normOffset) out.push('norm offset');
  if (c.hiddenAct && c.hiddenAct !== 'silu') out.push(`activation ${c.hiddenAct}`);
  if (c.queryScale !== undefined && Math.abs(c.queryScale - 1 / Math.sqrt(c.headDim)) > 1e-9) out.push('query scale');
  if (c.attnSoftcap || c.finalSoftcap) out.push('soft-capping');
  if (c.sandwichNorms) out.push('sandwich norms');
  if (c.slidingWindow) out.push('sliding-window attention');
  if (c.localRopeTheta !== undefined) out.push('local rotary base');
  if (c.layerTypes?.some((t) => t !== 'attention')) out.push('non-attention layers');
  return out;
}

/** The weight of a projection as [in, out] (the tfjs model stores PyTorch's [out, in]). */
function transposed(model: LlamaModel, name: string): { data: Float32Array; dims: number[] } {
  const w = model.weight(name);
  const data = tf.tidy(() => tf.transpose(w).dataSync() as Float32Array);
  const [out, inputs] = w.shape as [number, number];
  return { data: Float32Array.from(data), dims: [inputs, out] };
}

function values(model: LlamaModel, name: string): Float32Array {
  return Float32Array.from(model.weight(name).dataSync() as Float32Array);
}

/** Names of the cache inputs and outputs of layer `l`. */
export function cacheNames(l: number): {
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
} {
  return {
    pastKey: `past_key_values.${l}.key`,
    pastValue: `past_key_values.${l}.value`,
    presentKey: `present.${l}.key`,
    presentValue: `present.${l}.value`,
  };
}

/**
 * Builds the graph from a model whose adapters (if any) are merged.
 * @throws Error when an adapter is attached but not merged.
 */
export function llamaOnnxGraph(model: LlamaModel): OnnxGraph {
  for (const [module, adapter] of model.adapters) {
    if (!adapter.merged) throw new Error(`the adapter on ${module} must be merged before export`);
  }
  const c: LlamaConfig = model.config;
  const extras = unsupportedFeatures(c);
  if (!LLAMA_FAMILY.includes(c.architecture) || extras.length) {
    throw new BadFlagError(
      `export to ONNX covers the Llama-family decoder (${LLAMA_FAMILY.join(', ')}); this model is "${c.architecture}"${extras.length ? ` with ${extras.join(', ')}` : ''}`,
    );
  }
  const { numHeads: nh, numKvHeads: nkv, headDim: d, hiddenSize: H, vocabSize: V } = c;
  const rep = nh / nkv;
  const g = new OnnxGraph('llama');

  const ids = g.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let l = 0; l < c.numLayers; l++) {
    const n = cacheNames(l);
    g.input(n.pastKey, 'float32', ['batch_size', nkv, 'past_sequence_length', d]);
    g.input(n.pastValue, 'float32', ['batch_size', nkv, 'past_sequence_length', d]);
  }

  // Lengths: T new positions after P cached ones, S = P + T in all.
  const scalar = (shapeOf: string, axis: number) =>
    g.op('Gather', [g.op('Shape', [shapeOf]), g.ints([axis], [])], { axis: a.int(0) });
  const P = scalar(cacheNames(0).pastKey, 2);
  const T = scalar(ids, 1);
  const S = g.op('Add', [P, T]);
  const one = g.ints([1], []);

  // Additive mask [B, 1, 1, T, S]: query t (absolute position P + t) sees keys 0..P + t that the
  // attention mask keeps. Masked scores get −1e9, as in the tfjs model.
  const keyPos = g.op('Unsqueeze', [g.op('Range', [g.ints([0], []), S, one]), g.ints([0])]);
  const queryPos = g.op('Unsqueeze', [g.op('Range', [P, S, one]), g.ints([1])]);
  const causal = g.op('LessOrEqual', [keyPos, queryPos]); // [T, S]
  const keep = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: a.int(9) }), g.ints([1, 2, 3])]); // [B,1,1,1,S]
  const allowed = g.op('And', [causal, keep]); // [B, 1, 1, T, S]
  const mask = g.op('Where', [allowed, g.floats([0], []), g.floats([-1e9], [])]);

  // Rotary tables for these positions: angle = position · inv_freq in float32, [B, 1, T, d].
  const invFreq = g.weight('rope_inv_freq', inverseFrequencies(c), [d / 2]);
  const angles = g.op('Mul', [
    g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: a.int(1) }), g.ints([2])]),
    invFreq,
  ]);
  const doubled = g.op('Concat', [angles, angles], { axis: a.int(-1) });
  const cos = g.op('Unsqueeze', [g.op('Cos', [doubled]), g.ints([1])]);
  const sin = g.op('Unsqueeze', [g.op('Sin', [doubled]), g.ints([1])]);
  const half = g.ints([d / 2, d / 2]);
  const rope = (x: string) => {
    const [x1, x2] = g.node('Split', [x, half], { axis: a.int(-1) }, 2);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: a.int(-1) });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };

  const rmsnorm = (x: string, weight: string) => {
    const variance = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: a.ints([-1]), keepdims: a.int(1) });
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.floats([c.rmsNormEps], [])])])]);
    const w = g.weight(weight, values(model, weight), [H]);
    return g.op('Mul', [g.op('Mul', [x, inv]), w]);
  };

  const project = (x: string, layer: number, p: Projection) => {
    const module = projectionModule(layer, p);
    const w = transposed(model, `${module}.weight`);
    let y = g.op('MatMul', [x, g.weight(`${module}.weight_t`, w.data, w.dims)]);
    if (model.weightNames().includes(`${module}.bias`)) {
      y = g.op('Add', [y, g.weight(`${module}.bias`, values(model, `${module}.bias`), [w.dims[1]])]);
    }
    return y;
  };

  const scale = g.floats([1 / Math.sqrt(d)], []);
  let h = g.op(
    'Gather',
    [g.weight('model.embed_tokens.weight', values(model, 'model.embed_tokens.weight'), [V, H]), ids],
    {
      axis: a.int(0),
    },
  );
  for (let l = 0; l < c.numLayers; l++) {
    const n = cacheNames(l);
    const x = rmsnorm(h, `model.layers.${l}.input_layernorm.weight`);
    const heads = (y: string, count: number) =>
      g.op('Transpose', [g.op('Reshape', [y, g.ints([0, 0, count, d])])], { perm: a.ints([0, 2, 1, 3]) });
    const q = rope(heads(project(x, l, 'q_proj'), nh)); // [B, nh, T, d]
    const k = rope(heads(project(x, l, 'k_proj'), nkv)); // [B, nkv, T, d]
    const v = heads(project(x, l, 'v_proj'), nkv);
    const keys = g.op('Concat', [n.pastKey, k], { axis: a.int(2) }, n.presentKey);
    const vals = g.op('Concat', [n.pastValue, v], { axis: a.int(2) }, n.presentValue);
    // Query heads h = group·rep + r share key/value head `group`: [B, nkv, rep, T, d] against [B, nkv, 1, S, d].
    const qg = g.op('Reshape', [q, g.ints([0, nkv, rep, -1, d])]);
    const kg = g.op('Unsqueeze', [keys, g.ints([2])]);
    const vg = g.op('Unsqueeze', [vals, g.ints([2])]);
    const scores = g.op('Add', [
      g.op('Mul', [g.op('MatMul', [qg, g.op('Transpose', [kg], { perm: a.ints([0, 1, 2, 4, 3]) })]), scale]),
      mask,
    ]);
    const attended = g.op('MatMul', [g.op('Softmax', [scores], { axis: a.int(-1) }), vg]); // [B, nkv, rep, T, d]
    const merged = g.op('Reshape', [
      g.op('Transpose', [g.op('Reshape', [attended, g.ints([0, nh, -1, d])])], { perm: a.ints([0, 2, 1, 3]) }),
      g.ints([0, 0, nh * d]),
    ]);
    h = g.op('Add', [h, project(merged, l, 'o_proj')]);
    const y = rmsnorm(h, `model.layers.${l}.post_attention_layernorm.weight`);
    const gate = project(y, l, 'gate_proj');
    const up = project(y, l, 'up_proj');
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    h = g.op('Add', [h, project(act, l, 'down_proj')]);
  }
  const final = rmsnorm(h, 'model.norm.weight');
  // A tied head reads the embedding through a Transpose that ONNX Runtime folds once at load.
  const head = c.tieWordEmbeddings
    ? g.op('Transpose', ['model.embed_tokens.weight'], { perm: a.ints([1, 0]) })
    : (() => {
        const w = transposed(model, 'lm_head.weight');
        return g.weight('lm_head.weight_t', w.data, w.dims);
      })();
  g.output(g.op('MatMul', [final, head]), 'float32', ['batch_size', 'sequence_length', V], 'logits');
  for (let l = 0; l < c.numLayers; l++) {
    const n = cacheNames(l);
    g.output(n.presentKey, 'float32', ['batch_size', nkv, 'total_sequence_length', d]);
    g.output(n.presentValue, 'float32', ['batch_size', nkv, 'total_sequence_length', d]);
  }
  return g;
}
