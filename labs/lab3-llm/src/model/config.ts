import { BadFileError } from '@introdl/core';

/**
 * The shape of a Llama-family decoder: everything the model, the loaders and the LoRA code need to
 * know. Names follow Hugging Face's `config.json` meaning, in camelCase.
 */
export interface LlamaConfig {
  /** Where the model came from: `llama`, `mistral`, `qwen2` (Hugging Face `model_type`) or `llama2c`. */
  architecture: string;
  vocabSize: number;
  hiddenSize: number;
  /** Width of the SwiGLU MLP. */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (grouped-query attention); equal to `numHeads` for plain multi-head attention. */
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: RopeScaling;
  maxPositions: number;
  /** The output projection shares the embedding matrix. */
  tieWordEmbeddings: boolean;
  /** q/k/v projections have biases (Qwen2). */
  attentionBias: boolean;
  bosTokenId?: number;
  eosTokenIds: number[];
}

/** Rotary-embedding scaling for long contexts (Hugging Face `rope_scaling`). */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    };

/** Model types whose checkpoints are the decoder implemented here, with the quirks they need. */
export const SUPPORTED_MODEL_TYPES = ['llama', 'mistral', 'qwen2'] as const;

/** The seven projections LoRA can target, in PEFT's names. */
export const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type Projection = (typeof PROJECTIONS)[number];

/** The module path of a projection, as Hugging Face names it. */
export function projectionModule(layer: number, projection: Projection): string {
  const inMlp = projection === 'gate_proj' || projection === 'up_proj' || projection === 'down_proj';
  return `model.layers.${layer}.${inMlp ? 'mlp' : 'self_attn'}.${projection}`;
}

/** [out, in] of a projection's weight (PyTorch's Linear layout). */
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
  }
}

/** Every weight the model expects, with its shape, in Hugging Face's names. */
export function expectedWeights(config: LlamaConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  out.set('model.embed_tokens.weight', [config.vocabSize, config.hiddenSize]);
  for (let l = 0; l < config.numLayers; l++) {
    out.set(`model.layers.${l}.input_layernorm.weight`, [config.hiddenSize]);
    out.set(`model.layers.${l}.post_attention_layernorm.weight`, [config.hiddenSize]);
    for (const p of PROJECTIONS) {
      out.set(`${projectionModule(l, p)}.weight`, projectionShape(config, p));
    }
    if (config.attentionBias) {
      for (const p of ['q_proj', 'k_proj', 'v_proj'] as const) {
        out.set(`${projectionModule(l, p)}.bias`, [projectionShape(config, p)[0]]);
      }
    }
  }
  out.set('model.norm.weight', [config.hiddenSize]);
  if (!config.tieWordEmbeddings) out.set('lm_head.weight', [config.vocabSize, config.hiddenSize]);
  return out;
}

/** Number of parameters of a model with this config (tied embeddings counted once). */
export function parameterCount(config: LlamaConfig): number {
  let n = 0;
  for (const shape of expectedWeights(config).values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

function int(json: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new BadFileError(file, `"${key}" must be a positive integer, got ${JSON.stringify(json[key])}`);
  }
  return v;
}

function num(json: Record<string, unknown>, key: string, fallback: number, file: string): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadFileError(file, `"${key}" must be a number`);
  return v;
}

function ids(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/**
 * Reads a Hugging Face `config.json` into a {@link LlamaConfig}.
 * @throws BadFileError naming `file` when the model type is not a Llama-family decoder or a field is wrong.
 */
export function configFromHf(json: Record<string, unknown>, file: string): LlamaConfig {
  const modelType = String(json.model_type ?? '');
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new BadFileError(
      file,
      `model_type "${modelType}" is not supported; this decoder runs ${SUPPORTED_MODEL_TYPES.join(', ')} checkpoints ` +
        '(see the lab3-llm README, "Adding an architecture")',
    );
  }
  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') throw new BadFileError(file, `hidden_act "${act}" is not supported (SwiGLU needs silu)`);
  if (json.mlp_bias === true) throw new BadFileError(file, 'mlp_bias is not supported');
  const hiddenSize = int(json, 'hidden_size', file);
  const numHeads = int(json, 'num_attention_heads', file);
  const numKvHeads = int(json, 'num_key_value_heads', file, numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw new BadFileError(
      file,
      `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`,
    );
  }
  const headDim = json.head_dim == null ? hiddenSize / numHeads : int(json, 'head_dim', file);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new BadFileError(file, `head dimension ${headDim} must be an even integer`);
  }
  const slidingWindow = json.use_sliding_window === true ? json.sliding_window : null;
  if (slidingWindow != null) {
    throw new BadFileError(file, 'sliding-window attention is not supported (use_sliding_window is true)');
  }
  return {
    architecture: modelType,
    vocabSize: int(json, 'vocab_size', file),
    hiddenSize,
    intermediateSize: int(json, 'intermediate_size', file),
    numLayers: int(json, 'num_hidden_layers', file),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num(json, 'rms_norm_eps', 1e-6, file),
    ropeTheta: num(json, 'rope_theta', 10000, file),
    ropeScaling: ropeScalingFromHf(json.rope_scaling, file),
    maxPositions: int(json, 'max_position_embeddings', file, 2048),
    tieWordEmbeddings: json.tie_word_embeddings === true,
    attentionBias: modelType === 'qwen2' || json.attention_bias === true,
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : undefined,
    eosTokenIds: ids(json.eos_token_id),
  };
}

function ropeScalingFromHf(value: unknown, file: string): RopeScaling | undefined {
  if (value == null) return undefined;
  const v = value as Record<string, unknown>;
  const type = String(v.rope_type ?? v.type ?? 'default');
  if (type === 'default') return undefined;
  const factor = Number(v.factor);
  if (!(factor > 0)) throw new BadFileError(file, 'rope_scaling.factor must be a positive number');
  if (type === 'linear') return { type, factor };
  if (type === 'llama3') {
    return {
      type,
      factor,
      lowFreqFactor: Number(v.low_freq_factor ?? 1),
      highFreqFactor: Number(v.high_freq_factor ?? 4),
      originalMaxPositions: Number(v.original_max_position_embeddings ?? 8192),
    };
  }
  throw new BadFileError(file, `rope_scaling type "${type}" is not supported (default, linear and llama3 are)`);
}

/** The `config.json` a Hugging Face LlamaForCausalLM (or Qwen2) would have for this config. */
export function configToHf(config: LlamaConfig): Record<string, unknown> {
  const modelType = config.architecture === 'llama2c' ? 'llama' : config.architecture;
  const out: Record<string, unknown> = {
    architectures: [modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    hidden_act: 'silu',
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    max_position_embeddings: config.maxPositions,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: config.attentionBias,
    torch_dtype: 'float32',
  };
  if (config.bosTokenId !== undefined) out.bos_token_id = config.bosTokenId;
  if (config.eosTokenIds.length)
    out.eos_token_id = config.eosTokenIds.length === 1 ? config.eosTokenIds[0] : config.eosTokenIds;
  if (config.ropeScaling?.type === 'linear')
    out.rope_scaling = { rope_type: 'linear', factor: config.ropeScaling.factor };
  if (config.ropeScaling?.type === 'llama3') {
    const s = config.ropeScaling;
    out.rope_scaling = {
      rope_type: 'llama3',
      factor: s.factor,
      low_freq_factor: s.lowFreqFactor,
      high_freq_factor: s.highFreqFactor,
      original_max_position_embeddings: s.originalMaxPositions,
    };
  }
  return out;
}
