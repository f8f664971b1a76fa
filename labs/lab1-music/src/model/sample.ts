import { BadFlagError, type Rng } from '@introdl/core';

/**
 * Draws an index from the categorical distribution softmax(logits / temperature), using `rng`
 * (seeded, so generation is reproducible and the same on every backend). A temperature below 1
 * sharpens the distribution toward the likeliest character; above 1 it flattens it.
 */
export function sampleIndex(logits: ArrayLike<number>, temperature: number, rng: Rng): number {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new BadFlagError(`--temperature must be a positive number, got ${temperature}`);
  }
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    weights[i] = Math.exp(logits[i] / temperature - max);
    total += weights[i];
  }
  let u = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return weights.length - 1;
}
