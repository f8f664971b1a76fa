/**
 * The shape of a decoder: everything the model, the loaders and the LoRA code need to know. Names
 * follow Hugging Face's `config.json` meaning, in camelCase. The Llama fields describe every model;
 * the optional ones switch on what Gemma, Qwen3 and LFM2 add (see docs in each field). Reading
 * `config.json` lives in hf-config.ts, the weight names and shapes in layout.ts.
 */
export interface LlamaConfig {
  /**
   * Where the model came from: Hugging Face `model_type` (`llama`, `mistral`, `qwen2`, `qwen3`,
   * `gemma`, `gemma2`, `gemma3_text`, `lfm2`) or `llama2c`. It decides the weight names.
   */
  architecture: string;
  vocabSize: number;
  hiddenSize: number;
  /** Width of the gated MLP. */
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

  /** Embeddings are multiplied by this (Gemma: √hidden). */
  embedScale?: number;
  /** RMSNorm multiplies by (normOffset + w): Gemma stores w − 1, so 1; 0 (default) otherwise. */
  normOffset?: number;
  /** The MLP's gate activation: SiLU (SwiGLU, default) or GELU with the tanh approximation (GeGLU, Gemma). */
  hiddenAct?: 'silu' | 'gelu_tanh';
  /** Attention scores are multiplied by this; default 1/√headDim (Gemma 2/3: query_pre_attn_scalar^-½). */
  queryScale?: number;
  /** Scores become cap·tanh(scores/cap) before the mask (Gemma 2). */
  attnSoftcap?: number;
  /** Logits become cap·tanh(logits/cap) (Gemma 2). */
  finalSoftcap?: number;
  /** RMSNorm over each head of q and k before the rotary embedding (Qwen3, Gemma 3, LFM2). */
  qkNorm?: boolean;
  /** Norms after attention and after the MLP too, before each residual add (Gemma 2/3). */
  sandwichNorms?: boolean;
  /** What each layer mixes positions with; default all `attention` (full causal attention). */
  layerTypes?: LayerType[];
  /** Keys a `sliding` layer sees: the query's own position and the window − 1 before it. */
  slidingWindow?: number;
  /** Rotary base of the sliding layers when it differs from ropeTheta (Gemma 3: 10,000 vs 1,000,000). */
  localRopeTheta?: number;
  /** Kernel length of LFM2's short causal convolution. */
  convKernel?: number;
  /** LFM2's convolution block has biases. */
  convBias?: boolean;
}

/** How a layer mixes information across positions. */
export type LayerType = 'attention' | 'sliding' | 'conv';

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

/** The layer type of layer `l` (all `attention` when the config has no list). */
export function layerType(config: LlamaConfig, l: number): LayerType {
  return config.layerTypes?.[l] ?? 'attention';
}

/**
 * Linear modules LoRA can target, by role. The first seven are every transformer's attention and
 * MLP projections (LFM2 calls o_proj `out_proj` and the MLP `w1`/`w3`/`w2`); `in_proj` and
 * `conv_out_proj` are LFM2's convolution block.
 */
export const PROJECTIONS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export const CONV_PROJECTIONS = ['in_proj', 'conv_out_proj'] as const;
export const ALL_PROJECTIONS = [...PROJECTIONS, ...CONV_PROJECTIONS] as const;
export type Projection = (typeof ALL_PROJECTIONS)[number];

export { configFromHf, configToHf, SUPPORTED_MODEL_TYPES } from './hf-config.js';
export {
  expectedWeights,
  finalNormName,
  type LinearModule,
  linearModules,
  parameterCount,
  projectionModule,
  projectionShape,
} from './layout.js';
