import { Rng } from '@introdl/core';

/**
 * Percentile bootstrap: resample the values with replacement `resamples` times, compute `stat` on
 * each, and take the 2.5th and 97.5th percentiles. With 5 values a group the interval is wide, and
 * it can only take the few values that resamples of 5 numbers allow: it shows how little 5 faces
 * can tell.
 */
export function bootstrapInterval(
  values: ArrayLike<number>,
  stat: (sample: Float64Array) => number,
  options: { resamples?: number; seed?: number; level?: number } = {},
): [number, number] {
  const n = values.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const rng = new Rng(options.seed ?? 0);
  const stats = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) sample[i] = values[rng.int(n)];
    stats[b] = stat(sample);
  }
  stats.sort();
  const tail = (1 - level) / 2;
  return [quantile(stats, tail), quantile(stats, 1 - tail)];
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const mean = (xs: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : Number.NaN;
};

/** Fraction of values ≥ threshold (the detection rate at P(face) ≥ 0.5). */
export const rateAtLeast =
  (threshold: number) =>
  (xs: ArrayLike<number>): number => {
    let k = 0;
    for (let i = 0; i < xs.length; i++) if (xs[i] >= threshold) k++;
    return xs.length ? k / xs.length : Number.NaN;
  };
