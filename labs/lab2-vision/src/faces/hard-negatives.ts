import { tf } from '@introdl/core';
import type { FaceDataset } from './face-dataset.js';
import { faceProbabilities } from './face-input.js';

/**
 * Hard-negative mining, as sliding-window detectors have done since Sung & Poggio (1998) and
 * Viola & Jones (2001): train on a first set of non-faces, run the model over many windows that
 * hold no face (build-dataset's mining pool: the detector's own windows over face-free photos and
 * regions), add the windows it mistakes for faces to the non-faces, and train on. Here "adding"
 * is done through the course's sampling probabilities over the non-faces (`get_batch`'s `p_neg`):
 * before mining the pool has probability 0; after a round the non-faces the model scored at or
 * above `above` (from the pool or not) make up `share` of the non-face draws, each drawn at most
 * `maxBoost` times as often as an ordinary one (a handful of mistakes must not fill every batch).
 */

export interface MiningOptions {
  /** A window counts as a mistake from this P(face) on (default 0.3: near misses teach too). */
  above?: number;
  /** The mined windows' share of the non-face draws (default 0.35). */
  share?: number;
  /** At most this many times as often as an ordinary non-face (default 20). */
  maxBoost?: number;
  /**
   * Windows mined in earlier rounds (1 = mined), updated in place: once added to the non-faces a
   * window stays, as in the classic procedure, so that a mistake fixed once is not unlearned.
   */
  mined?: Uint8Array;
}

/** One round's outcome (logged, and written to the run's metrics). */
export interface MiningRound {
  step: number;
  scored: number;
  /** Non-faces at or above the threshold: in the first training set, and in the pool. */
  hardTraining: number;
  hardPool: number;
  /** The mined windows' share of the non-face draws from now on. */
  hardShare: number;
  maxP: number;
}

/** Which non-faces (by position in `data.nonFaceIndices`) are mining-pool windows. */
export function poolMask(data: FaceDataset): Uint8Array {
  const start = Number(data.attributes.mining_pool_start ?? Number.POSITIVE_INFINITY);
  return Uint8Array.from(data.nonFaceIndices, (i) => (i >= start ? 1 : 0));
}

/** The first-round sampling weights of the non-faces: uniform over those outside the pool. */
export function initialNegativeWeights(pool: Uint8Array): Float64Array | undefined {
  const outside = pool.reduce((a, v) => a + (v ? 0 : 1), 0);
  if (outside === pool.length) return undefined;
  return Float64Array.from(pool, (v) => (v ? 0 : 1 / outside));
}

/**
 * P(face) of the non-faces of `data` at positions `which` of nonFaceIndices (all when omitted);
 * the others get −1 (not scored).
 */
export function scoreNonFaces(
  faceLogit: (x: tf.Tensor4D) => tf.Tensor2D,
  data: FaceDataset,
  which?: ArrayLike<number>,
  batchSize = 256,
): Float32Array {
  const positions = which ?? Int32Array.from(data.nonFaceIndices.keys());
  const out = new Float32Array(data.nonFaceCount).fill(-1);
  for (let start = 0; start < positions.length; start += batchSize) {
    const chunk = Array.from({ length: Math.min(batchSize, positions.length - start) }, (_, k) => positions[start + k]);
    const idx = chunk.map((k) => data.nonFaceIndices[k]);
    const x = tf.tensor4d(data.rgbFloats(idx), [idx.length, 64, 64, 3]);
    const p = faceProbabilities(faceLogit, x, batchSize);
    x.dispose();
    chunk.forEach((k, i) => {
      out[k] = p[i];
    });
  }
  return out;
}

/** Positions (in nonFaceIndices order) of the pool windows. */
export function poolPositions(pool: Uint8Array): Int32Array {
  const out: number[] = [];
  pool.forEach((v, i) => {
    if (v) out.push(i);
  });
  return Int32Array.from(out);
}

/**
 * Sampling weights after a mining round, from the non-faces' scores (−1 = not scored this round:
 * an ordinary non-face, or a pool window left out).
 */
export function minedNegativeWeights(
  scores: Float32Array,
  pool: Uint8Array,
  options: MiningOptions = {},
): { weights: Float64Array; hardTraining: number; hardPool: number; hardShare: number; maxP: number } {
  const above = options.above ?? 0.3;
  const share = options.share ?? 0.35;
  const maxBoost = options.maxBoost ?? 20;
  const mined = options.mined ?? new Uint8Array(scores.length);
  let hardTraining = 0;
  let hardPool = 0;
  let easy = 0;
  let maxP = 0;
  for (let i = 0; i < scores.length; i++) {
    maxP = Math.max(maxP, scores[i]);
    if (scores[i] >= above) mined[i] = 1;
    if (mined[i]) {
      if (pool[i]) hardPool++;
      else hardTraining++;
    } else if (!pool[i]) easy++;
  }
  const hard = hardTraining + hardPool;
  // Weight of one mined window relative to an ordinary one: `share` of the draws, capped.
  const boost = hard && easy ? Math.min(maxBoost, (share / (1 - share)) * (easy / hard)) : 1;
  const weights = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) weights[i] = mined[i] ? boost : pool[i] ? 0 : 1;
  const total = weights.reduce((a, v) => a + v, 0);
  for (let i = 0; i < weights.length; i++) weights[i] /= total;
  const hardMass = hard * boost;
  return { weights, hardTraining, hardPool, hardShare: hardMass / total, maxP };
}
