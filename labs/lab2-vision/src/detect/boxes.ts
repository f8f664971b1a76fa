import type { Box } from '../image/rgb-image.js';

/** A box with a detection score (P(face)). */
export interface ScoredBox extends Box {
  score: number;
}

/** Intersection over union of two boxes (0 when they do not overlap). */
export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Intersection over the smaller box's area: 1 when one box lies inside the other. */
export function overlapOfSmaller(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const smaller = Math.min(a.width * a.height, b.width * b.height);
  return smaller > 0 ? inter / smaller : 0;
}

/**
 * Greedy non-maximum suppression: take the highest-scoring box, drop every box overlapping it by
 * more than `iouThreshold`, or lying mostly inside it or around it (overlap of the smaller box
 * above `containment`: a sliding window finds a face again in the windows on its eyes and mouth),
 * repeat. Returns the kept boxes, best first.
 */
export function nonMaxSuppression<B extends ScoredBox>(
  boxes: B[],
  iouThreshold = 0.3,
  containment = 0.7,
  maxBoxes = 100,
): B[] {
  const order = [...boxes].sort((a, b) => b.score - a.score);
  const kept: B[] = [];
  for (const box of order) {
    if (kept.length >= maxBoxes) break;
    if (kept.every((k) => iou(k, box) <= iouThreshold && overlapOfSmaller(k, box) <= containment)) kept.push(box);
  }
  return kept;
}

/**
 * Box voting: each kept box becomes the score-weighted mean of the candidate boxes that overlap it
 * by IoU ≥ `iouThreshold` (itself included). A sliding window's grid is coarse (a stride of 0.2 of
 * the window); averaging the neighbouring windows that also saw the face places the box better.
 */
export function voteBoxes<B extends ScoredBox>(kept: B[], candidates: ScoredBox[], iouThreshold = 0.3): B[] {
  return kept.map((k) => {
    const near = candidates.filter((c) => iou(c, k) >= iouThreshold);
    const total = near.reduce((a, c) => a + c.score, 0);
    if (!near.length || total <= 0) return k;
    const avg = (f: (b: Box) => number) => near.reduce((a, c) => a + c.score * f(c), 0) / total;
    return { ...k, x: avg((b) => b.x), y: avg((b) => b.y), width: avg((b) => b.width), height: avg((b) => b.height) };
  });
}

/** For each reference box, the best IoU with any of `boxes` (0 when there are none). */
export function bestMatches(reference: Box[], boxes: Box[]): number[] {
  return reference.map((r) => boxes.reduce((best, b) => Math.max(best, iou(r, b)), 0));
}
