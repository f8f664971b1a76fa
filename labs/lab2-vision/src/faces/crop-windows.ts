import type { Rng } from '@introdl/core';
import type { FaceGeometry } from '../image/accessories.js';
import type { SquareWindow } from '../image/affine.js';
import type { Ellipse } from '../image/composite.js';
import type { Box } from '../image/rgb-image.js';

/**
 * Where build-dataset cuts its 64×64 images from a photo: windows around a face (positives,
 * looser and tighter, shifted, turned a little) and windows that hold no face (negatives), in the
 * range of sizes the sliding-window detector uses.
 */

/** How positives are framed: crop side = face side × margin, margin log-uniform in [min, max]. */
export interface PositiveFraming {
  margin: [number, number];
  /** Centre shift, ± this fraction of the crop side in x and y. */
  shift: number;
  /** Rotation: normal with this standard deviation (degrees), cut at ±maxDegrees. */
  rotationSd: number;
  maxDegrees: number;
  /** Width-to-height stretch drawn from [1 − x, 1 + x] (faces turned a little, photos resized unevenly). */
  aspect: number;
}

/**
 * The default framing. The reference detector's box runs from about the brows to the chin; the
 * course's face images are tight crops that may cut the forehead and chin (margin 0.65–0.9),
 * while 1.5 shows hair, ears and some background, like a sliding window one scale up.
 */
export const POSITIVE_FRAMING: PositiveFraming = {
  margin: [0.65, 1.5],
  shift: 0.08,
  rotationSd: 6,
  maxDegrees: 15,
  aspect: 0.12,
};

/**
 * A positive window around `face`, where the head sits in the `out`×`out` crop (for compositing)
 * and where the face box lands in it, turned with the window (for painting accessories on it).
 */
export function positiveWindow(
  face: Box,
  rng: Rng,
  framing: PositiveFraming = POSITIVE_FRAMING,
  out = 64,
): { window: SquareWindow; head: Ellipse; face: FaceGeometry; margin: number } {
  const side = Math.max(face.width, face.height);
  const margin = framing.margin[0] * (framing.margin[1] / framing.margin[0]) ** rng.next();
  const size = side * margin;
  const shift = () => (2 * rng.next() - 1) * framing.shift * size;
  const cx = face.x + face.width / 2 + shift();
  // A little above the box's centre: the box stops at the brows, the head does not.
  const cy = face.y + face.height * 0.45 + shift();
  const degrees = Math.max(-framing.maxDegrees, Math.min(framing.maxDegrees, rng.normal() * framing.rotationSd));
  const flip = rng.next() < 0.5;
  const aspect = 1 - framing.aspect + 2 * framing.aspect * rng.next();
  const scale = out / size;
  const fx = face.x + face.width / 2 - cx;
  const head: Ellipse = {
    cx: out / 2 + (flip ? -fx : fx) * scale,
    // The head ellipse reaches above the brows to take in the hair.
    cy: out / 2 + (face.y + face.height * 0.4 - cy) * scale,
    rx: (0.62 * face.width * scale) / aspect,
    ry: 0.78 * face.height * scale,
  };
  const angle = (degrees * Math.PI) / 180;
  // The face box's centre in the crop: sampleSquare maps crop offsets (a·dx, dy), a = ±aspect, through
  // a rotation by `angle` to photo offsets; this is its inverse.
  const a = (flip ? -1 : 1) * aspect;
  const fy = face.y + face.height / 2 - cy;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const faceInCrop: FaceGeometry = {
    cx: out / 2 + ((fx * cos + fy * sin) / a) * scale,
    cy: out / 2 + (-fx * sin + fy * cos) * scale,
    width: (face.width * scale) / aspect,
    height: face.height * scale,
    // An upright face appears turned against the window (mirrored: with it).
    tilt: flip ? angle : -angle,
  };
  return { window: { cx, cy, size, angle, flip, aspect }, head, face: faceInCrop, margin };
}

/** Area of the intersection of two boxes. */
export function intersection(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * The head around a face box: wider than the brows-to-chin box, and reaching well above it for
 * the forehead and hair. A negative may touch it only slightly.
 */
export function headBox(face: Box): Box {
  return {
    x: face.x - 0.2 * face.width,
    y: face.y - 0.5 * face.height,
    width: 1.4 * face.width,
    height: 1.75 * face.height,
  };
}

/** Whether `window` shows (part of) any head: more than `maxShare` of the head, or of the window. */
export function showsHead(window: Box, heads: Box[], maxShare = 0.1): boolean {
  return heads.some((h) => {
    const i = intersection(window, h);
    return i > maxShare * h.width * h.height || i > maxShare * window.width * window.height;
  });
}

/**
 * A random square window of a `width`×`height` photo clear of every head in `heads`, its side a
 * log-uniform fraction in `fraction` of the shorter side (the detector's windows run from 12% to
 * 100%); undefined when `tries` draws all hit a head.
 */
export function negativeWindow(
  width: number,
  height: number,
  heads: Box[],
  rng: Rng,
  fraction: [number, number] = [0.1, 1],
  tries = 30,
): Box | undefined {
  const short = Math.min(width, height);
  for (let t = 0; t < tries; t++) {
    const size = Math.max(12, Math.round(short * fraction[0] * (fraction[1] / fraction[0]) ** rng.next()));
    const box = { x: rng.int(width - size + 1), y: rng.int(height - size + 1), width: size, height: size };
    if (!showsHead(box, heads)) return box;
  }
  return undefined;
}

/**
 * A window that shows part of a face but frames none: at most `maxVisible` of the face box inside
 * it (an eye and the hair, the chin and the collar), at a face-like scale. Such windows surround
 * every face a sliding window passes over; taught as non-faces they keep the detector from putting
 * a ring of boxes around each face (MTCNN's "negative" windows). Positives are centred on the face
 * and show at least about 40% of its box (the tightest crops, well inside it; IoU ≥ 0.4), so with
 * at most 25% visible and IoU below 0.3 the two stay apart.
 */
/** Whether `window` shows at most `maxVisible` of the face box and frames none of it (IoU < 0.3). */
export function showsPartOfFace(window: Box, face: Box, maxVisible = 0.25): boolean {
  const i = intersection(window, face);
  const visible = i / (face.width * face.height);
  const iou = i / (window.width * window.height + face.width * face.height - i);
  return visible >= 0.05 && visible <= maxVisible && iou < 0.3;
}

export function partialFaceWindow(
  face: Box,
  width: number,
  height: number,
  rng: Rng,
  maxVisible = 0.25,
  tries = 30,
): Box | undefined {
  const side = Math.max(face.width, face.height);
  for (let t = 0; t < tries; t++) {
    const size = Math.round(side * 0.7 * (1.8 / 0.7) ** rng.next());
    if (size > Math.min(width, height)) continue;
    const reach = (size + side) / 2;
    const cx = face.x + face.width / 2 + (2 * rng.next() - 1) * reach;
    const cy = face.y + face.height / 2 + (2 * rng.next() - 1) * reach;
    const box = { x: Math.round(cx - size / 2), y: Math.round(cy - size / 2), width: size, height: size };
    if (box.x < 0 || box.y < 0 || box.x + size > width || box.y + size > height) continue;
    if (showsPartOfFace(box, face, maxVisible)) return box;
  }
  return undefined;
}
