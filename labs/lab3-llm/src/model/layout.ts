import { type LlamaConfig, layerType, type Projection } from './config.js';

/**
 * Where each weight of a decoder lives, in Hugging Face's names and PyTorch's [out, in] layout. The
 * Llama family (Llama, Mistral, Qwen, Gemma) shares one naming scheme; LFM2 has its own. The model,
 * the loaders, LoRA and the exporters all go through these functions, so a new architecture's names
 * are written down once.
 */

/** The names of one layer's weights (without `.weight`); absent entries are not in this architecture. */
export interface LayerNames {
  /** Norm before attention or convolution. */
  inputNorm: string;
  /** Norm of the attention/convolution output before the residual add (Gemma 2/3). */
  postMixNorm?: string;
  /** Norm before the MLP. */
  ffnNorm: string;
  /** Norm of the MLP output before the residual add (Gemma 2/3). */
  postFfnNorm?: string;
  /** Per-head norms of q and k (Qwen3, Gemma 3, LFM2). */
  qNorm?: string;
  kNorm?: string;
  /** LFM2's depthwise causal convolution, weight [hidden, 1, kernel]. */
  conv?: string;
  /** The linear modules, by role. */
  linear: Partial<Record<Projection, string>>;
}

const isLfm2 = (config: LlamaConfig) => config.architecture === 'lfm2';

/** The names of layer `l`'s weights. */
export function layerNames(config: LlamaConfig, l: number): LayerNames {
  const p = `model.layers.${l}`;
  const type = layerType(config, l);
  if (isLfm2(config)) {
    const linear: LayerNames['linear'] = {
      gate_proj: `${p}.feed_forward.w1`,
      up_proj: `${p}.feed_forward.w3`,
      down_proj: `${p}.feed_forward.w2`,
    };
    if (type === 'conv') {
      linear.in_proj = `${p}.conv.in_proj`;
      linear.conv_out_proj = `${p}.conv.out_proj`;
      return { inputNorm: `${p}.operator_norm`, ffnNorm: `${p}.ffn_norm`, conv: `${p}.conv.conv`, linear };
    }
    for (const r of ['q_proj', 'k_proj', 'v_proj'] as const) linear[r] = `${p}.self_attn.${r}`;
    linear.o_proj = `${p}.self_attn.out_proj`;
    return {
      inputNorm: `${p}.operator_norm`,
      ffnNorm: `${p}.ffn_norm`,
      qNorm: `${p}.self_attn.q_layernorm`,
      kNorm: `${p}.self_attn.k_layernorm`,
      linear,
    };
  }
  const linear: LayerNames['linear'] = {};
  for (const r of ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const) linear[r] = `${p}.self_attn.${r}`;
  for (const r of ['gate_proj', 'up_proj', 'down_proj'] as const) linear[r] = `${p}.mlp.${r}`;
  const names: LayerNames = { inputNorm: `${p}.input_layernorm`, ffnNorm: `${p}.post_attention_layernorm`, linear };
  if (config.sandwichNorms) {
    // Gemma 2/3 reuse "post_attention_layernorm" for the norm of the attention output.
    names.postMixNorm = `${p}.post_attention_layernorm`;
    names.ffnNorm = `${p}.pre_feedforward_layernorm`;
    names.postFfnNorm = `${p}.post_feedforward_layernorm`;
  }
  if (config.qkNorm) {
    names.qNorm = `${p}.self_attn.q_norm`;
    names.kNorm = `${p}.self_attn.k_norm`;
  }
  return names;
}

/** The final norm's weight name (LFM2 calls it `embedding_norm`, though it comes last). */
export function finalNormName(config: LlamaConfig): string {
  return isLfm2(config) ? 'model.embedding_norm.weight' : 'model.norm.weight';
}

/** [out, in] of a linear module of a layer of this kind (PyTorch's Linear layout). */
export function projectionShape(config: LlamaConfig, projection: Projection): [number, number] {
  const { hiddenSize: h, intermediateSize: f, numHeads, numKvHeads, headDim } = config;
  switch (projection) {
    case 'q_proj':
      return [numHeads * headDim, h];
    case 'k_proj':
    case 'v_proj':
      return [numKvHeads * headDim, h];
    case 'o_proj':
      return [h, numHeads * headDim];
    case 'gate_proj':
    case 'up_proj':
      return [f, h];
    case 'down_proj':
      return [h, f];
    case 'in_proj':
      return [3 * h, h];
    case 'conv_out_proj':
      return [h, h];
  }
}

/**
 * The module path of a projection in a Llama-family layer, e.g. `model.layers.0.self_attn.q_proj`.
 * Other architectures: {@link linearModules}.
 */
export function projectionModule(layer: number, projection: Projection): string {
  const inMlp = projection === 'gate_proj' || projection === 'up_proj' || projection === 'down_proj';
  return `model.layers.${layer}.${inMlp ? 'mlp' : 'self_attn'}.${projection}`;
}

/** One linear module of a layer: its path (without `.weight`), role and [out, in] shape. */
export interface LinearModule {
  module: string;
  layer: number;
  role: Projection;
  shape: [number, number];
}

/** Every linear module of every layer, in layer order (what LoRA can be attached to). */
export function linearModules(config: LlamaConfig): LinearModule[] {
  const out: LinearModule[] = [];
  for (let l = 0; l < config.numLayers; l++) {
    for (const [role, module] of Object.entries(layerNames(config, l).linear) as [Projection, string][]) {
      out.push({ module, layer: l, role, shape: projectionShape(config, role) });
    }
  }
  return out;
}

/** Every weight the model expects, with its shape, in Hugging Face's names. */
export function expectedWeights(config: LlamaConfig): Map<string, number[]> {
  const H = config.hiddenSize;
  const out = new Map<string, number[]>();
  out.set('model.embed_tokens.weight', [config.vocabSize, H]);
  for (let l = 0; l < config.numLayers; l++) {
    const names = layerNames(config, l);
    for (const norm of [names.inputNorm, names.postMixNorm, names.ffnNorm, names.postFfnNorm]) {
      if (norm) out.set(`${norm}.weight`, [H]);
    }
    if (names.qNorm && names.kNorm) {
      out.set(`${names.qNorm}.weight`, [config.headDim]);
      out.set(`${names.kNorm}.weight`, [config.headDim]);
    }
    for (const [role, module] of Object.entries(names.linear) as [Projection, string][]) {
      const shape = projectionShape(config, role);
      out.set(`${module}.weight`, shape);
      const qkv = role === 'q_proj' || role === 'k_proj' || role === 'v_proj';
      const conv = role === 'in_proj' || role === 'conv_out_proj';
      if ((qkv && config.attentionBias) || (conv && config.convBias)) out.set(`${module}.bias`, [shape[0]]);
    }
    if (names.conv) {
      out.set(`${names.conv}.weight`, [H, 1, config.convKernel ?? 3]);
      if (config.convBias) out.set(`${names.conv}.bias`, [H]);
    }
  }
  out.set(finalNormName(config), [H]);
  if (!config.tieWordEmbeddings) out.set('lm_head.weight', [config.vocabSize, H]);
  return out;
}

/** Number of parameters of a model with this config (tied embeddings counted once). */
export function parameterCount(config: LlamaConfig): number {
  let n = 0;
  for (const shape of expectedWeights(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}
