import type { Rng } from '@introdl/core';

/** How the next token is chosen from the logits. */
export interface SamplingOptions {
  /** 0 is greedy (argmax); otherwise logits are divided by it before the softmax. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability exceeds p (1 or undefined: all). */
  topP?: number;
}

/** Index of the largest value; the first one on ties (as run.c and torch.argmax do). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Probabilities softmax(logits / temperature) in float64. */
export function softmaxWithTemperature(logits: ArrayLike<number>, temperature: number): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    p[i] = Math.exp((logits[i] - max) / temperature);
    sum += p[i];
  }
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}

/**
 * The candidate tokens after top-k and top-p filtering, most likely first, with their
 * probabilities renormalised. Top-p keeps the token that crosses p (Hugging Face's TopPLogitsWarper).
 */
export function filterCandidates(probs: Float64Array, topK = 0, topP = 1): { ids: number[]; probs: number[] } {
  let order = [...probs.keys()].sort((a, b) => probs[b] - probs[a] || a - b);
  if (topK > 0 && topK < order.length) order = order.slice(0, topK);
  if (topP < 1) {
    const mass = order.reduce((s, i) => s + probs[i], 0);
    let cumulative = 0;
    let keep = order.length;
    for (let n = 0; n < order.length; n++) {
      cumulative += probs[order[n]] / mass;
      if (cumulative >= topP) {
        keep = n + 1;
        break;
      }
    }
    order = order.slice(0, keep);
  }
  const total = order.reduce((s, i) => s + probs[i], 0);
  return { ids: order, probs: order.map((i) => probs[i] / total) };
}

/** Chooses the next token id from one position's logits. */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, rng: Rng): number {
  const temperature = options.temperature ?? 1;
  if (temperature < 0 || !Number.isFinite(temperature)) throw new RangeError('temperature must be ≥ 0');
  if (temperature === 0) return argmax(logits);
  const probs = softmaxWithTemperature(logits, temperature);
  const { ids, probs: p } = filterCandidates(probs, options.topK ?? 0, options.topP ?? 1);
  const r = rng.next();
  let cdf = 0;
  for (let i = 0; i < ids.length; i++) {
    cdf += p[i];
    if (r < cdf) return ids[i];
  }
  return ids[ids.length - 1];
}
