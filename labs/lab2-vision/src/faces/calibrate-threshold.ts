/**
 * The detector's window threshold, calibrated on held-out data rather than fixed at 0.5: a photo
 * holds thousands of windows, so a classifier that is wrong on 1% of non-faces puts dozens of
 * boxes on every photo. The threshold is the lowest P(face) (not below `floor`) at which at most
 * `targetFpr` of the validation non-face windows pass — unless that would keep fewer than
 * `minRecall` of the validation faces, in which case it is the highest threshold that keeps them.
 * Validation people are held out of training by build-dataset, so these rates are honest.
 */

export interface CalibrationOptions {
  /** Largest share of non-face windows allowed through (default 0.001: a photo holds thousands). */
  targetFpr?: number;
  /** Smallest share of faces that must pass (default 0.9). */
  minRecall?: number;
  /** The threshold never goes below this (default 0.5, the classifier's own boundary). */
  floor?: number;
}

export interface Calibration {
  threshold: number;
  /** Which rule set it: the false-positive target, the recall floor, or the floor of 0.5. */
  rule: 'false-positive target' | 'recall floor' | 'floor';
  faces: number;
  nonFaces: number;
  recall: number;
  falsePositiveRate: number;
  /** The same rates at P(face) ≥ 0.5, for comparison. */
  atHalf: { recall: number; falsePositiveRate: number };
  targetFpr: number;
  minRecall: number;
}

const rateAtLeast = (xs: ArrayLike<number>, t: number) => {
  let k = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] >= t) k++;
  return xs.length ? k / xs.length : 0;
};

/** Picks the detector threshold from validation scores of faces and of non-face windows. */
export function calibrateThreshold(
  faceScores: ArrayLike<number>,
  nonFaceScores: ArrayLike<number>,
  options: CalibrationOptions = {},
): Calibration {
  const targetFpr = options.targetFpr ?? 0.001;
  const minRecall = options.minRecall ?? 0.9;
  const floor = options.floor ?? 0.5;
  // Passing non-faces, highest first: the threshold just above the k-th highest lets k − 1 … through.
  const negatives = Array.from(nonFaceScores).sort((a, b) => b - a);
  const allowed = Math.floor(targetFpr * negatives.length);
  let threshold = floor;
  let rule: Calibration['rule'] = 'floor';
  if (negatives.length && negatives[allowed] !== undefined && negatives[allowed] >= floor) {
    // Just above the (allowed + 1)-th highest non-face score.
    threshold = Math.min(1, nextUp(negatives[allowed]));
    rule = 'false-positive target';
  }
  if (rateAtLeast(faceScores, threshold) < minRecall && threshold > floor) {
    const faces = Array.from(faceScores).sort((a, b) => b - a);
    const keep = Math.ceil(minRecall * faces.length) - 1;
    threshold = Math.max(floor, faces[Math.max(0, keep)] ?? floor);
    rule = threshold > floor ? 'recall floor' : 'floor';
  }
  return {
    threshold,
    rule,
    faces: faceScores.length,
    nonFaces: nonFaceScores.length,
    recall: rateAtLeast(faceScores, threshold),
    falsePositiveRate: rateAtLeast(nonFaceScores, threshold),
    atHalf: { recall: rateAtLeast(faceScores, 0.5), falsePositiveRate: rateAtLeast(nonFaceScores, 0.5) },
    targetFpr,
    minRecall,
  };
}

/** The smallest float64 above x (so that "≥ threshold" excludes x itself). */
function nextUp(x: number): number {
  return x + Math.max(Number.EPSILON * Math.abs(x), Number.MIN_VALUE) * 2;
}
