/**
 * The detector's window threshold, calibrated on held-out data rather than fixed at 0.5. A photo
 * holds thousands of windows, so the classifier's own boundary puts boxes on textures; detectors
 * instead fix an operating point on their precision–recall curve. Ours is a fixed recall: the
 * strictest P(face) that still keeps `recall` of the validation faces (people build-dataset held
 * out of training), never below `floor`. The share of validation non-face windows it lets through
 * is reported with it. (A false-positive target on the validation windows was tried first: those
 * windows — backgrounds of official portraits — are too easy to stand for a new photo's windows,
 * and it set thresholds that let dozens of windows of a new photo through.)
 */

export interface CalibrationOptions {
  /** Share of the validation faces the threshold keeps (default 0.9). */
  recall?: number;
  /** The threshold never goes below this (default 0.5, the classifier's own boundary). */
  floor?: number;
}

export interface Calibration {
  threshold: number;
  /** What set it: the recall target, or the floor when the recall target is below it. */
  rule: 'validation recall' | 'floor';
  faces: number;
  nonFaces: number;
  /** Validation rates at the threshold. */
  recall: number;
  falsePositiveRate: number;
  /** The same rates at P(face) ≥ 0.5, for comparison. */
  atHalf: { recall: number; falsePositiveRate: number };
  targetRecall: number;
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
  const targetRecall = options.recall ?? 0.9;
  const floor = options.floor ?? 0.5;
  const faces = Array.from(faceScores).sort((a, b) => b - a);
  // The k-th best face, k = ⌈recall · n⌉: "≥ it" keeps at least k faces.
  const kth = faces[Math.max(0, Math.ceil(targetRecall * faces.length) - 1)];
  const threshold = kth !== undefined && kth > floor ? kth : floor;
  return {
    threshold,
    rule: threshold > floor ? 'validation recall' : 'floor',
    faces: faceScores.length,
    nonFaces: nonFaceScores.length,
    recall: rateAtLeast(faceScores, threshold),
    falsePositiveRate: rateAtLeast(nonFaceScores, threshold),
    atHalf: { recall: rateAtLeast(faceScores, 0.5), falsePositiveRate: rateAtLeast(nonFaceScores, 0.5) },
    targetRecall,
  };
}
