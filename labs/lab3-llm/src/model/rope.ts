import { type LlamaConfig, layerType } from './config.js';

/**
 * Rotary position embeddings. Both llama2.c (run.c) and Hugging Face compute the angles in single
 * precision: inv_freq_j = 1 / θ^(2j/d) and angle = position · inv_freq_j, each rounded to float32.
 * We round the same way so greedy generations match theirs token for token.
 */

const f = Math.fround;

/** What the rotary embedding of a layer depends on. */
export type RopeParams = Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>;

/**
 * The rotary parameters of layer `l`: Gemma 3's sliding layers use their own base (10,000) and no
 * scaling, its global layers rope_theta with rope_scaling; every other model has one set.
 */
export function layerRope(config: LlamaConfig, l: number): RopeParams {
  if (layerType(config, l) === 'sliding' && config.localRopeTheta !== undefined) {
    return { headDim: config.headDim, ropeTheta: config.localRopeTheta };
  }
  return config;
}

/** The d/2 inverse frequencies of a head of size d, with Hugging Face's rope scaling applied. */
export function inverseFrequencies(config: RopeParams): Float32Array {
  const d = config.headDim;
  const out = new Float32Array(d / 2);
  for (let j = 0; j < d / 2; j++) out[j] = f(1 / f(config.ropeTheta ** f((2 * j) / d)));
  const s = config.ropeScaling;
  if (s?.type === 'linear') {
    for (let j = 0; j < out.length; j++) out[j] = f(out[j] / s.factor);
  } else if (s?.type === 'llama3') {
    // transformers' _compute_llama3_parameters: keep high frequencies, divide low ones by `factor`,
    // and blend smoothly in between.
    const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositions / s.highFreqFactor;
    for (let j = 0; j < out.length; j++) {
      const wavelen = (2 * Math.PI) / out[j];
      if (wavelen > lowWavelen) out[j] = f(out[j] / s.factor);
      else if (wavelen >= highWavelen) {
        const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        out[j] = f((1 - smooth) * (out[j] / s.factor) + smooth * out[j]);
      }
    }
  }
  return out;
}

/** The float32 rotation angle of frequency `invFreq` at `position`. */
export function ropeAngle(position: number, invFreq: number): number {
  return f(position * invFreq);
}

/**
 * cos and sin tables for positions [start, start + n), each [n, d] in the rotate-half layout
 * (frequency j at columns j and j + d/2), as Hugging Face's LlamaRotaryEmbedding builds them.
 */
export function ropeTables(config: RopeParams, start: number, n: number): { cos: Float32Array; sin: Float32Array } {
  const inv = inverseFrequencies(config);
  const d = config.headDim;
  const half = d / 2;
  const cos = new Float32Array(n * d);
  const sin = new Float32Array(n * d);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < half; j++) {
      const a = ropeAngle(start + t, inv[j]);
      const c = Math.cos(a);
      const s = Math.sin(a);
      cos[t * d + j] = c;
      cos[t * d + j + half] = c;
      sin[t * d + j] = s;
      sin[t * d + j + half] = s;
    }
  }
  return { cos, sin };
}
