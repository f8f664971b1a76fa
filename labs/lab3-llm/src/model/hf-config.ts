import { BadFileError } from '@introdl/core';
import type { LayerType, LlamaConfig, RopeScaling } from './config.js';

/**
 * Hugging Face `config.json` ↔ {@link LlamaConfig}, one reader per `model_type`, following what
 * transformers' configuration and modeling files do with each field (defaults included).
 */

/** Model types whose checkpoints this decoder runs. */
export const SUPPORTED_MODEL_TYPES = [
  'llama',
  'mistral',
  'qwen2',
  'qwen3',
  'gemma',
  'gemma2',
  'gemma3_text',
  'lfm2',
] as const;

type Json = Record<string, unknown>;

function int(json: Json, key: string, file: string, fallback?: number): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new BadFileError(file, `"${key}" must be a positive integer, got ${JSON.stringify(json[key])}`);
  }
  return v;
}

function num(json: Json, key: string, fallback: number, file: string): number {
  const v = json[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadFileError(file, `"${key}" must be a number`);
  return v;
}

/** A number that may be null (softcaps); undefined when null or absent. */
function optionalNum(json: Json, key: string, file: string, fallback?: number): number | undefined {
  const v = json[key] === undefined ? fallback : json[key];
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw new BadFileError(file, `"${key}" must be a positive number or null`);
  return v;
}

function ids(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/** rope_theta, wherever this config keeps it (LFM2's original key is `theta`, transformers 5 nests it). */
function ropeTheta(json: Json, fallback: number, file: string): number {
  const nested = (json.rope_parameters as Json | undefined)?.rope_theta;
  const v = json.rope_theta ?? json.theta ?? nested ?? fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new BadFileError(file, '"rope_theta" must be a positive number');
  return v;
}

function ropeScalingFromHf(value: unknown, file: string): RopeScaling | undefined {
  if (value == null) return undefined;
  const v = value as Json;
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

/** `layer_types` as written by transformers, or undefined when absent. */
function layerTypesFromHf(json: Json, n: number, file: string): LayerType[] | undefined {
  const raw = json.layer_types;
  if (raw == null) return undefined;
  if (!Array.isArray(raw) || raw.length !== n)
    throw new BadFileError(file, `"layer_types" must list ${n} layer types (num_hidden_layers)`);
  return raw.map((t) => {
    if (t === 'full_attention') return 'attention';
    if (t === 'sliding_attention') return 'sliding';
    if (t === 'conv') return 'conv';
    throw new BadFileError(file, `layer type "${t}" is not supported (full_attention, sliding_attention, conv)`);
  });
}

/** The fields every decoder shares. */
function base(json: Json, modelType: string, file: string, defaults: { tied: boolean; eps: number; theta: number }) {
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
  const tied = json.tie_word_embeddings ?? json.tie_embedding ?? defaults.tied;
  const config: LlamaConfig = {
    architecture: modelType,
    vocabSize: int(json, 'vocab_size', file),
    hiddenSize,
    // LFM2's original key block_ff_dim wins over intermediate_size, as in its configuration class.
    intermediateSize: int(json, json.block_ff_dim != null ? 'block_ff_dim' : 'intermediate_size', file),
    numLayers: int(json, 'num_hidden_layers', file),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: num(json, 'rms_norm_eps', num(json, 'norm_eps', defaults.eps, file), file),
    ropeTheta: ropeTheta(json, defaults.theta, file),
    ropeScaling: ropeScalingFromHf(json.rope_scaling, file),
    maxPositions: int(json, 'max_position_embeddings', file, 2048),
    tieWordEmbeddings: tied === true,
    attentionBias: json.attention_bias === true,
    bosTokenId: typeof json.bos_token_id === 'number' ? json.bos_token_id : undefined,
    eosTokenIds: ids(json.eos_token_id),
  };
  return config;
}

/** hidden_act / hidden_activation → the gate activation; GELU in any tanh or exact form reads as Gemma's. */
function activation(json: Json, modelType: string, file: string): 'silu' | 'gelu_tanh' {
  const act = String(json.hidden_activation ?? json.hidden_act ?? (modelType.startsWith('gemma') ? 'gelu' : 'silu'));
  if (act === 'silu' || act === 'swish') return 'silu';
  // Gemma's modeling code uses the tanh approximation even when config.json says "gelu".
  if (act === 'gelu_pytorch_tanh' || (act === 'gelu' && modelType.startsWith('gemma'))) return 'gelu_tanh';
  throw new BadFileError(file, `hidden_act "${act}" is not supported (silu, or gelu_pytorch_tanh for Gemma)`);
}

/** Gemma 2/3's sliding pattern when config.json has no layer_types. */
function gemmaLayerTypes(json: Json, modelType: string, n: number, file: string): LayerType[] {
  const listed = layerTypesFromHf(json, n, file);
  if (listed) return listed;
  if (modelType === 'gemma2') return Array.from({ length: n }, (_, i) => ((i + 1) % 2 ? 'sliding' : 'attention'));
  const pattern = int(json, 'sliding_window_pattern', file, 6);
  return Array.from({ length: n }, (_, i) => ((i + 1) % pattern ? 'sliding' : 'attention'));
}

/** LFM2's MLP width: transformers shrinks block_ff_dim by 2/3 and rounds up to block_multiple_of. */
function lfm2Intermediate(json: Json, ff: number): number {
  if (json.block_auto_adjust_ff_dim === false) return ff;
  let size = Math.trunc((2 * ff) / 3);
  const multiplier = json.block_ffn_dim_multiplier === undefined ? 1 : json.block_ffn_dim_multiplier;
  if (multiplier !== null) {
    size = Math.trunc(Number(multiplier) * size);
    const m = Number(json.block_multiple_of ?? 256);
    size = m * Math.ceil(size / m);
  }
  return size;
}

/**
 * Reads a Hugging Face `config.json` into a {@link LlamaConfig}.
 * @throws BadFileError naming `file` when the model type is not supported or a field is wrong.
 */
export function configFromHf(json: Json, file: string): LlamaConfig {
  const modelType = String(json.model_type ?? '');
  if (modelType === 'gemma3' && json.text_config) {
    throw new BadFileError(
      file,
      'is a multimodal Gemma 3 (model_type "gemma3"); use a text-only Gemma 3 such as google/gemma-3-270m-it or google/gemma-3-1b-it',
    );
  }
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new BadFileError(
      file,
      `model_type "${modelType}" is not supported; this decoder runs ${SUPPORTED_MODEL_TYPES.join(', ')} checkpoints ` +
        '(see the lab3-llm README, "Adding an architecture")',
    );
  }
  if (json.mlp_bias === true) throw new BadFileError(file, 'mlp_bias is not supported');
  const gemma = modelType.startsWith('gemma');
  const config = base(json, modelType, file, {
    tied: gemma || modelType === 'lfm2',
    eps: gemma || modelType.startsWith('qwen') ? 1e-6 : 1e-5,
    theta: modelType === 'lfm2' || modelType === 'gemma3_text' ? 1_000_000 : 10_000,
  });
  config.hiddenAct = activation(json, modelType, file);
  if (modelType === 'qwen2') config.attentionBias = true;
  if (modelType === 'mistral' && json.sliding_window != null) {
    // Mistral 7B v0.1: every layer attends to a 4096-token window.
    config.slidingWindow = int(json, 'sliding_window', file);
    config.layerTypes = Array.from({ length: config.numLayers }, () => 'sliding');
  }
  if ((modelType === 'qwen2' || modelType === 'qwen3') && json.use_sliding_window === true) {
    // transformers: layers from max_window_layers on slide, unless layer_types says otherwise.
    config.slidingWindow = int(json, 'sliding_window', file);
    const from = typeof json.max_window_layers === 'number' ? json.max_window_layers : config.numLayers;
    config.layerTypes =
      layerTypesFromHf(json, config.numLayers, file) ??
      Array.from({ length: config.numLayers }, (_, i) => (i >= from ? 'sliding' : 'attention'));
  }
  if (modelType === 'qwen3') config.qkNorm = true;
  if (gemma) {
    config.embedScale = Math.fround(Math.sqrt(config.hiddenSize));
    config.normOffset = 1;
  }
  if (modelType === 'gemma2' || modelType === 'gemma3_text') {
    config.sandwichNorms = true;
    const scalar = num(json, 'query_pre_attn_scalar', config.headDim, file);
    config.queryScale = scalar ** -0.5;
    config.attnSoftcap = optionalNum(json, 'attn_logit_softcapping', file, modelType === 'gemma2' ? 50 : undefined);
    config.finalSoftcap = optionalNum(json, 'final_logit_softcapping', file, modelType === 'gemma2' ? 30 : undefined);
    config.layerTypes = gemmaLayerTypes(json, modelType, config.numLayers, file);
    config.slidingWindow = int(json, 'sliding_window', file, modelType === 'gemma2' ? 4096 : 512);
  }
  if (modelType === 'gemma3_text') {
    config.qkNorm = true;
    config.localRopeTheta = num(json, 'rope_local_base_freq', 10_000, file);
  }
  if (modelType === 'lfm2') {
    config.qkNorm = true;
    config.intermediateSize = lfm2Intermediate(json, config.intermediateSize);
    const n = config.numLayers;
    const full = Array.isArray(json.full_attn_idxs) ? (json.full_attn_idxs as number[]) : undefined;
    config.layerTypes =
      layerTypesFromHf(json, n, file) ??
      Array.from({ length: n }, (_, i) => (!full || full.includes(i) ? 'attention' : 'conv'));
    config.convKernel = int(json, 'conv_L_cache', file, 3);
    config.convBias = json.conv_bias === true;
  }
  return config;
}

const ARCHITECTURE_CLASS: Record<string, string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  gemma: 'GemmaForCausalLM',
  gemma2: 'Gemma2ForCausalLM',
  gemma3_text: 'Gemma3ForCausalLM',
  lfm2: 'Lfm2ForCausalLM',
};

const HF_LAYER_TYPE: Record<LayerType, string> = {
  attention: 'full_attention',
  sliding: 'sliding_attention',
  conv: 'conv',
};

/** The `config.json` transformers would write for this config (used by the fixtures and the exporters). */
export function configToHf(config: LlamaConfig): Json {
  const modelType = config.architecture === 'llama2c' ? 'llama' : config.architecture;
  const out: Json = {
    architectures: [ARCHITECTURE_CLASS[modelType] ?? 'LlamaForCausalLM'],
    model_type: modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads,
    head_dim: config.headDim,
    hidden_act: config.hiddenAct === 'gelu_tanh' ? 'gelu_pytorch_tanh' : 'silu',
    rms_norm_eps: config.rmsNormEps,
    rope_theta: config.ropeTheta,
    max_position_embeddings: config.maxPositions,
    tie_word_embeddings: config.tieWordEmbeddings,
    attention_bias: config.attentionBias,
    torch_dtype: 'float32',
  };
  if (modelType.startsWith('gemma')) out.hidden_activation = out.hidden_act;
  if (modelType === 'gemma2' || modelType === 'gemma3_text') {
    out.query_pre_attn_scalar = Math.round((config.queryScale ?? config.headDim ** -0.5) ** -2);
    out.attn_logit_softcapping = config.attnSoftcap ?? null;
    out.final_logit_softcapping = config.finalSoftcap ?? null;
    out.sliding_window = config.slidingWindow;
  }
  if (modelType === 'gemma3_text') out.rope_local_base_freq = config.localRopeTheta ?? 10_000;
  if (modelType === 'lfm2') {
    // Written as LFM2's own configs are: the MLP width as block_ff_dim with no adjustment.
    delete out.intermediate_size;
    delete out.rms_norm_eps;
    out.block_ff_dim = config.intermediateSize;
    out.block_auto_adjust_ff_dim = false;
    out.norm_eps = config.rmsNormEps;
    out.conv_L_cache = config.convKernel ?? 3;
    out.conv_bias = config.convBias ?? false;
  }
  if (config.layerTypes) out.layer_types = config.layerTypes.map((t) => HF_LAYER_TYPE[t]);
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
