import { BadShapeError, IntrodlError, type Rng } from '@introdl/core';

/** A sampling-probability vector that cannot be used: wrong length, negative, or not summing to 1. */
export class BadProbabilitiesError extends IntrodlError {}

/**
 * Checks a probability vector over `n` items the way numpy's `choice(p=…)` does: one entry per
 * item, none negative, summing to 1, and at least `draw` of them non-zero (sampling is without
 * replacement).
 */
export function checkProbabilities(p: ArrayLike<number>, n: number, draw: number, what = 'p_pos'): void {
  if (p.length !== n) throw new BadShapeError(`${what} (one probability per face)`, [n], [p.length]);
  let sum = 0;
  let nonZero = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (!Number.isFinite(v) || v < 0)
      throw new BadProbabilitiesError(`${what}[${i}] is ${v}: probabilities must be finite and ≥ 0`);
    sum += v;
    if (v > 0) nonZero++;
  }
  if (Math.abs(sum - 1) > 1e-6) throw new BadProbabilitiesError(`${what} sums to ${sum}, not 1: normalise it first`);
  if (nonZero < draw)
    throw new BadProbabilitiesError(
      `${what} has only ${nonZero} non-zero entries; ${draw} must be drawn without replacement`,
    );
}

/**
 * Draws `k` distinct indices from 0..n-1, index i with probability proportional to `p[i]` at each
 * successive draw (numpy's `choice(replace=False, p=…)`), using Efraimidis–Spirakis keys
 * log(u)/p: the k largest keys are such a sample. Uniform when `p` is undefined.
 */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng, p?: ArrayLike<number>): Int32Array {
  if (k > n) throw new IntrodlError(`cannot draw ${k} items without replacement from ${n}`);
  if (!p) {
    // Partial Fisher–Yates: the first k of a shuffled prefix.
    const pool = new Int32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(n - i);
      const t = pool[i];
      pool[i] = pool[j];
      pool[j] = t;
    }
    return pool.slice(0, k);
  }
  // Keep the k largest keys in a min-heap: O(n log k) rather than sorting all n.
  const heapKey = new Float64Array(k);
  const heapIdx = new Int32Array(k);
  let size = 0;
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && heapKey[l] < heapKey[m]) m = l;
      if (r < size && heapKey[r] < heapKey[m]) m = r;
      if (m === i) return;
      [heapKey[i], heapKey[m]] = [heapKey[m], heapKey[i]];
      [heapIdx[i], heapIdx[m]] = [heapIdx[m], heapIdx[i]];
      i = m;
    }
  };
  for (let i = 0; i < n; i++) {
    if (!(p[i] > 0)) continue;
    const key = Math.log(1 - rng.next()) / p[i];
    if (size < k) {
      // Sift up.
      let j = size++;
      heapKey[j] = key;
      heapIdx[j] = i;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (heapKey[parent] <= heapKey[j]) break;
        [heapKey[j], heapKey[parent]] = [heapKey[parent], heapKey[j]];
        [heapIdx[j], heapIdx[parent]] = [heapIdx[parent], heapIdx[j]];
        j = parent;
      }
    } else if (key > heapKey[0]) {
      heapKey[0] = key;
      heapIdx[0] = i;
      siftDown(0);
    }
  }
  return heapIdx.slice(0, size);
}
