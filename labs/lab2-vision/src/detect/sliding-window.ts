import { tf } from '@introdl/core';
import { faceProbabilities64 } from '../faces/face-input.js';
import { resizeBilinear } from '../image/resize.js';
import { type Box, cropImage, type RgbImage, toUnitFloats } from '../image/rgb-image.js';
import { iou, nonMaxSuppression, type ScoredBox, voteBoxes } from './boxes.js';

/**
 * Face detection in whole photos with a 64×64 face classifier, as the course's PPB evaluator did:
 * slide square windows of several sizes over the image with a stride of 0.2 of the window, classify
 * each window (resized to 64×64), keep the windows with P(face) ≥ threshold, then non-maximum
 * suppression, and place each kept box at the score-weighted mean of the windows around it.
 */

export interface SlidingWindowOptions {
  /** Number of window sizes, spaced geometrically from `minFraction` to `maxFraction` of the shorter side. */
  sizes?: number;
  minFraction?: number;
  maxFraction?: number;
  /** Stride as a fraction of the window size (the course: 0.2). */
  strideFraction?: number;
  /** P(face) a window needs to count (the course: 0.5, i.e. logit ≥ 0). */
  threshold?: number;
  nmsIou?: number;
  /**
   * A face must be found by at least this many windows (those passing the threshold that overlap
   * the kept box with IoU ≥ nmsIou, itself included): a real face lights up neighbouring windows
   * and scales, a stray texture often only one (Viola–Jones's "min neighbours").
   */
  minNeighbours?: number;
  /**
   * The face's side as a share of the window's: a classifier trained on faces framed with a margin
   * (build-dataset frames them 0.9–1.6 times the reference detector's box, 1.2 on average) fires
   * on windows that much larger than the face, so the box reported is the window shrunk about its
   * centre by this factor (1 = report the window itself).
   */
  faceScale?: number;
  batchSize?: number;
}

export const SLIDING_WINDOW_DEFAULTS: Required<SlidingWindowOptions> = {
  sizes: 8,
  minFraction: 0.12,
  maxFraction: 1,
  strideFraction: 0.2,
  threshold: 0.5,
  nmsIou: 0.3,
  minNeighbours: 2,
  faceScale: 1,
  batchSize: 128,
};

/** A window shrunk (or grown) about its centre to the face it frames. */
export function faceBoxOfWindow<B extends Box>(window: B, faceScale: number): B {
  const w = window.width * faceScale;
  const h = window.height * faceScale;
  return {
    ...window,
    x: window.x + (window.width - w) / 2,
    y: window.y + (window.height - h) / 2,
    width: w,
    height: h,
  };
}

/** Every window the detector classifies. */
export function windowBoxes(width: number, height: number, options: SlidingWindowOptions = {}): Box[] {
  const o = { ...SLIDING_WINDOW_DEFAULTS, ...options };
  const short = Math.min(width, height);
  const boxes: Box[] = [];
  const sizes = new Set<number>();
  for (let k = 0; k < o.sizes; k++) {
    const f = o.sizes === 1 ? o.maxFraction : o.minFraction * (o.maxFraction / o.minFraction) ** (k / (o.sizes - 1));
    sizes.add(Math.max(8, Math.round(f * short)));
  }
  for (const size of sizes) {
    const stride = Math.max(1, Math.round(o.strideFraction * size));
    for (let y = 0; y + size <= height; y += stride) {
      for (let x = 0; x + size <= width; x += stride) boxes.push({ x, y, width: size, height: size });
    }
  }
  return boxes;
}

/** The result of a detection on one image. */
export interface Detection {
  boxes: ScoredBox[];
  windows: number;
  /** The best window's P(face), whether or not it passed the threshold. */
  maxScore: number;
  /** Windows at or above the threshold, before suppression. */
  candidates: number;
}

/** The windows `boxes` of `image`, each cropped and resized to 64×64, as one [n, 64, 64, 3] RGB [0, 1] buffer. */
export function windowBatch(image: RgbImage, boxes: readonly Box[]): Float32Array {
  const data = new Float32Array(boxes.length * 64 * 64 * 3);
  boxes.forEach((b, i) => {
    data.set(toUnitFloats(resizeBilinear(cropImage(image, b), 64, 64)), i * 64 * 64 * 3);
  });
  return data;
}

/** From every window's P(face) to the detections: threshold, suppression, neighbours, voting. */
export function boxesFromScores(
  windows: readonly Box[],
  scores: ArrayLike<number>,
  options: SlidingWindowOptions = {},
): Detection {
  const o = { ...SLIDING_WINDOW_DEFAULTS, ...options };
  const scored: ScoredBox[] = [];
  let maxScore = 0;
  windows.forEach((b, i) => {
    maxScore = Math.max(maxScore, scores[i]);
    if (scores[i] >= o.threshold) scored.push({ ...b, score: scores[i] });
  });
  const kept = nonMaxSuppression(scored, o.nmsIou).filter(
    (k) => scored.filter((c) => iou(c, k) >= o.nmsIou).length >= o.minNeighbours,
  );
  // Voting moves boxes; suppress again so that two voted boxes never sit on one face.
  const boxes = nonMaxSuppression(voteBoxes(kept, scored, o.nmsIou), o.nmsIou).map((b) =>
    faceBoxOfWindow(b, o.faceScale),
  );
  return { boxes, windows: windows.length, maxScore, candidates: scored.length };
}

/**
 * The detector with any scorer of window batches ([n, 64, 64, 3] → P(face) for each): the tfjs
 * model, or an exported model in ONNX Runtime.
 */
export async function detectFacesWith(
  image: RgbImage,
  score: (windows: Float32Array, n: number) => Promise<ArrayLike<number>>,
  options: SlidingWindowOptions = {},
): Promise<Detection> {
  const o = { ...SLIDING_WINDOW_DEFAULTS, ...options };
  const windows = windowBoxes(image.width, image.height, o);
  const scores = new Float32Array(windows.length);
  // A scorer that runs off the main thread (ONNX Runtime) scores one batch while the next is cropped.
  let pending: Promise<void> | undefined;
  for (let start = 0; start < windows.length; start += o.batchSize) {
    const chunk = windows.slice(start, start + o.batchSize);
    const batch = windowBatch(image, chunk);
    await pending;
    pending = score(batch, chunk.length).then((p) => {
      scores.set(Array.from(p), start);
    });
  }
  await pending;
  return boxesFromScores(windows, scores, o);
}

/** Runs the sliding-window detector on one image with a tfjs face model. */
export function detectFaces(
  image: RgbImage,
  faceLogit: (x: tf.Tensor4D) => tf.Tensor2D,
  options: SlidingWindowOptions = {},
): Detection {
  const o = { ...SLIDING_WINDOW_DEFAULTS, ...options };
  const windows = windowBoxes(image.width, image.height, o);
  // In double precision: in float32 a photo's best windows would tie at P = 1.
  const scores = new Float64Array(windows.length);
  for (let start = 0; start < windows.length; start += o.batchSize) {
    const chunk = windows.slice(start, start + o.batchSize);
    const x = tf.tensor4d(windowBatch(image, chunk), [chunk.length, 64, 64, 3]);
    scores.set(faceProbabilities64(faceLogit, x, o.batchSize), start);
    x.dispose();
  }
  return boxesFromScores(windows, scores, o);
}
