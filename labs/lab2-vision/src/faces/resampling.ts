import { BadShapeError } from '@introdl/core';

/**
 * Adaptive resampling (`get_training_sample_probabilities`): faces whose latent features are rare
 * in the training set get drawn more often. For each latent dimension, a histogram of the faces'
 * latent means gives a density; a face's weight in that dimension is the inverse of the density of
 * its bin; its final weight is the maximum over dimensions, normalised to sum to 1.
 */

/** The course's defaults. */
export const RESAMPLING_BINS = 10;
export const RESAMPLING_SMOOTHING = 0.001;

/**
 * Inverse-density weights of one latent dimension: a `bins`-bin density histogram of `values`
 * (numpy's `histogram(density=True)` over [min, max]), outer edges opened to ±∞, each value's bin
 * found (`digitize`), densities smoothed `(d + smoothing) / Σ`, weight = 1 / density of the value's
 * bin, normalised to sum to 1.
 */
export function inverseDensityWeights(
  values: ArrayLike<number>,
  bins = RESAMPLING_BINS,
  smoothing = RESAMPLING_SMOOTHING,
): Float64Array {
  // @exercise lab2.2.4 "Resampling histogram"
  // Hint: bin width w = (max − min)/bins; density[b] = count[b]/(n·w); add smoothing and divide by the sum; weight[i] = 1/density[bin of i]; normalise.
  const n = values.length;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  // numpy widens an empty range to [v − 0.5, v + 0.5].
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const binOf = new Int32Array(n);
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    // With the outer edges at ±∞ the bin is the number of inner edges at or below the value.
    const b = Math.min(bins - 1, Math.max(0, Math.floor((values[i] - lo) / width)));
    binOf[i] = b;
    counts[b]++;
  }
  const density = counts.map((c) => c / (n * width) + smoothing);
  const densitySum = density.reduce((a, b) => a + b, 0);
  const weights = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    weights[i] = densitySum / density[binOf[i]];
    total += weights[i];
  }
  for (let i = 0; i < n; i++) weights[i] /= total;
  return weights;
  // @end
}

/**
 * The sampling probability of each face from its latent means `mu` (`n` rows of `latentDim`,
 * row-major): the elementwise maximum over dimensions of {@link inverseDensityWeights}, normalised.
 */
export function trainingSampleProbabilities(
  mu: Float32Array,
  n: number,
  latentDim: number,
  bins = RESAMPLING_BINS,
  smoothing = RESAMPLING_SMOOTHING,
): Float64Array {
  if (mu.length !== n * latentDim)
    throw new BadShapeError('latent means', [n, latentDim], [mu.length / latentDim, latentDim]);
  const p = new Float64Array(n);
  const column = new Float32Array(n);
  for (let j = 0; j < latentDim; j++) {
    for (let i = 0; i < n; i++) column[i] = mu[i * latentDim + j];
    const w = inverseDensityWeights(column, bins, smoothing);
    for (let i = 0; i < n; i++) if (w[i] > p[i]) p[i] = w[i];
  }
  const total = p.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) p[i] /= total;
  return p;
}
