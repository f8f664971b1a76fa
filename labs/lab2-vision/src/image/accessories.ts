import type { Rng } from '@introdl/core';
import type { RgbImage } from './rgb-image.js';

/**
 * Things people wear or hold in front of their faces, painted onto an image where a face is:
 * dark glasses over the eyes, a cap or hat over the forehead with its brim's shadow below, a scarf
 * or mask over the mouth and chin, a hand over a cheek. Photos of faces have them all the time;
 * official portraits, which are most of our faces, almost never do, so a classifier trained on
 * those alone learns that a face has two visible eyes and a forehead. Random erasing (occlusion.ts)
 * hides random rectangles; these hide the parts of a face that are really hidden, in the shapes
 * that hide them. build-dataset paints them onto non-faces too, at random places, so that a pair of
 * dark lenses or a cap brim is not by itself a reason to say "face".
 */

/** Where a face is in an image: the reference detector's box (brows to chin), and its tilt. */
export interface FaceGeometry {
  /** Centre of the box, in pixels. */
  cx: number;
  cy: number;
  /** Width and height of the box, in pixels. */
  width: number;
  height: number;
  /** Roll of the face in radians (clockwise in image coordinates). */
  tilt: number;
}

export type AccessoryKind = 'sunglasses' | 'cap' | 'scarf' | 'hand';
export const ACCESSORY_KINDS: readonly AccessoryKind[] = ['sunglasses', 'cap', 'scarf', 'hand'];

/**
 * A mask painter: for each pixel, the face-frame coordinates (u across, v down, both in units of
 * the box's width and height, 0 at the box's centre) go to a coverage in [0, 1] and a colour.
 */
type Paint = (u: number, v: number, x: number, y: number) => { a: number; rgb: readonly number[] } | undefined;

const clamp = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));
/** Smooth step from 1 inside (d ≤ 0) to 0 outside (d ≥ soft). */
const inside = (d: number, soft: number) => {
  const t = Math.min(1, Math.max(0, d / Math.max(soft, 1e-6)));
  return 1 - t * t * (3 - 2 * t);
};

/**
 * Visits every pixel of a w × h image with its position (u, v) in the face's frame — the face's roll
 * undone, in face widths and heights from its centre — and its offset in the RGB data.
 */
function forEachPixelInFace(
  w: number,
  h: number,
  face: FaceGeometry,
  visit: (u: number, v: number, x: number, y: number, offset: number) => void,
): void {
  const cos = Math.cos(face.tilt);
  const sin = Math.sin(face.tilt);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x + 0.5 - face.cx;
      const dy = y + 0.5 - face.cy;
      visit((dx * cos + dy * sin) / face.width, (-dx * sin + dy * cos) / face.height, x, y, (y * w + x) * 3);
    }
  }
}

/** Paints `paint` over a copy of `image` in the face's frame. */
function paintInFace(image: RgbImage, face: FaceGeometry, paint: Paint): RgbImage {
  const { width: w, height: h } = image;
  const out = image.data.slice();
  forEachPixelInFace(w, h, face, (u, v, x, y, o) => {
    const p = paint(u, v, x, y);
    if (!p || p.a <= 0) return;
    for (let c = 0; c < 3; c++) out[o + c] = clamp((1 - p.a) * out[o + c] + p.a * p.rgb[c]);
  });
  return { width: w, height: h, data: out };
}

/** Multiplies the brightness under a mask (a shadow), in the face's frame. */
function shadeInFace(image: RgbImage, face: FaceGeometry, shade: (u: number, v: number) => number): RgbImage {
  const { width: w, height: h } = image;
  const out = image.data.slice();
  forEachPixelInFace(w, h, face, (u, v, _x, _y, o) => {
    const f = shade(u, v);
    if (f >= 1) return;
    for (let c = 0; c < 3; c++) out[o + c] = clamp(out[o + c] * f);
  });
  return { width: w, height: h, data: out };
}

/** A dark, desaturated or tinted colour, as lenses, caps and scarves mostly are. */
function randomFabric(rng: Rng, dark = false): number[] {
  if (dark) {
    const base = 10 + rng.int(50);
    return [0, 1, 2].map(() => clamp(base + (rng.next() - 0.5) * 30));
  }
  // A third plain dark, a third a muted colour, a third anything (a red cap, a white mask).
  const u = rng.next();
  if (u < 1 / 3) return randomFabric(rng, true);
  if (u < 2 / 3) {
    const base = 60 + rng.int(120);
    return [0, 1, 2].map(() => clamp(base + (rng.next() - 0.5) * 80));
  }
  return [rng.int(256), rng.int(256), rng.int(256)];
}

/** Dark glasses: two lenses over the eyes (eyes at about 0.3 of the box from its top), a bridge, sometimes arms. */
export function paintSunglasses(image: RgbImage, face: FaceGeometry, rng: Rng): RgbImage {
  const eyeV = -0.2 + (rng.next() - 0.5) * 0.08;
  const eyeU = 0.2 + (rng.next() - 0.5) * 0.04;
  const rx = 0.14 + 0.06 * rng.next();
  const ry = 0.09 + 0.05 * rng.next();
  // Round lenses, aviators and wrap-arounds (one band) are all common.
  const wrap = rng.next() < 0.25;
  const squareness = rng.next() < 0.5 ? 2 : 4; // superellipse exponent: 2 round, 4 squarish
  const lens = randomFabric(rng, true);
  const opacity = 0.8 + 0.2 * rng.next();
  const frame = randomFabric(rng, true);
  const arms = rng.next() < 0.6;
  const soft = 0.015;
  return paintInFace(image, face, (u, v) => {
    let d: number;
    if (wrap) {
      d = Math.max(Math.abs(u) - (eyeU + rx), Math.abs(v - eyeV) - ry * (1 - 0.3 * (Math.abs(u) / (eyeU + rx)) ** 2));
    } else {
      const du = (Math.abs(u) - eyeU) / rx;
      const dv = (v - eyeV) / ry;
      d = ((Math.abs(du) ** squareness + Math.abs(dv) ** squareness) ** (1 / squareness) - 1) * Math.min(rx, ry);
    }
    if (d < soft) return { a: opacity * inside(d, soft), rgb: lens };
    // The bridge between the lenses and the arms to the ears.
    const bridge = Math.abs(u) < eyeU && Math.abs(v - eyeV + ry * 0.4) < 0.02;
    const arm = arms && Math.abs(u) > eyeU + rx && Math.abs(u) < 0.62 && Math.abs(v - eyeV + ry * 0.3) < 0.018;
    return bridge || arm ? { a: 0.9, rgb: frame } : undefined;
  });
}

/** A cap or hat: the crown over the forehead down to about the brows, a brim, and its shadow on the face. */
export function paintCap(image: RgbImage, face: FaceGeometry, rng: Rng): RgbImage {
  // The box starts at about the brows; the brim comes down to between the hairline and the eyes.
  const brimV = -0.5 + 0.22 * rng.next();
  const halfWidth = 0.62 + 0.15 * rng.next();
  const colour = randomFabric(rng);
  const brimDepth = rng.next() < 0.6 ? 0.05 + 0.08 * rng.next() : 0;
  const brimColour = colour.map((c) => c * (0.6 + 0.3 * rng.next()));
  const shadow = 0.35 + 0.45 * rng.next();
  const shadowReach = 0.2 + 0.35 * rng.next();
  const shaded = shadeInFace(image, face, (u, v) => {
    if (v < brimV || Math.abs(u) > halfWidth) return 1;
    return 1 - (1 - shadow) * Math.max(0, 1 - (v - brimV) / shadowReach);
  });
  const texture = 12 * rng.next();
  return paintInFace(shaded, face, (u, v, x, y) => {
    // The crown: a half-ellipse above the brim line, as wide as the head.
    const crown = (u / halfWidth) ** 2 + ((v - brimV) / 0.75) ** 2 - 1;
    if (v <= brimV && crown < 0.04) {
      const grain = texture * (((x * 7 + y * 13) % 5) / 4 - 0.5);
      return { a: inside(crown, 0.04), rgb: colour.map((c) => c + grain) };
    }
    // The brim: a band below the crown's edge, a little wider.
    if (brimDepth && v > brimV && v < brimV + brimDepth && Math.abs(u) < halfWidth * 1.05)
      return { a: 0.95, rgb: brimColour };
    return undefined;
  });
}

/** A scarf, a high collar or a face mask over the mouth and chin. */
export function paintScarf(image: RgbImage, face: FaceGeometry, rng: Rng): RgbImage {
  // The top edge runs from just under the eyes (a mask) to under the lips (a scarf pulled down).
  const topV = -0.02 + 0.3 * rng.next();
  const sag = (rng.next() - 0.3) * 0.12;
  const halfWidth = 0.5 + 0.2 * rng.next();
  const colour = randomFabric(rng);
  const folds = rng.next() < 0.5 ? 0.12 * rng.next() : 0;
  return paintInFace(image, face, (u, v) => {
    const top = topV + sag * (u / halfWidth) ** 2;
    const d = Math.max(top - v, Math.abs(u) - halfWidth * (1 + 0.4 * Math.max(0, v - 0.5)));
    if (d > 0.02) return undefined;
    const shade = 1 - folds * (0.5 + 0.5 * Math.sin(v * 40 + u * 8));
    return { a: inside(d, 0.02), rgb: colour.map((c) => c * shade) };
  });
}

/** A hand over part of the face: a palm-sized blob in a skin colour, from one side or below. */
export function paintHand(image: RgbImage, face: FaceGeometry, rng: Rng): RgbImage {
  const side = rng.next() < 0.5 ? -1 : 1;
  const cu = side * (0.25 + 0.3 * rng.next());
  const cv = 0.05 + 0.45 * rng.next();
  const ru = 0.22 + 0.12 * rng.next();
  const rv = 0.3 + 0.15 * rng.next();
  const angle = (rng.next() - 0.5) * 1.2;
  // Skin tones from light to dark along one line (R > G > B), with some spread.
  const t = rng.next();
  const skin = [235 - 150 * t, 190 - 130 * t, 160 - 115 * t].map((c) => c * (0.85 + 0.3 * rng.next()));
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  return paintInFace(image, face, (u, v) => {
    const du = (u - cu) * ca + (v - cv) * sa;
    const dv = -(u - cu) * sa + (v - cv) * ca;
    const d = Math.hypot(du / ru, dv / rv) - 1;
    if (d > 0.08) return undefined;
    // Shading across the palm, darker towards its edge.
    return { a: inside(d, 0.08), rgb: skin.map((c) => c * (0.8 + 0.2 * Math.max(0, -d))) };
  });
}

const PAINTERS: Record<AccessoryKind, (image: RgbImage, face: FaceGeometry, rng: Rng) => RgbImage> = {
  sunglasses: paintSunglasses,
  cap: paintCap,
  scarf: paintScarf,
  hand: paintHand,
};

/** Paints one accessory of `kind`. */
export function paintAccessory(image: RgbImage, face: FaceGeometry, kind: AccessoryKind, rng: Rng): RgbImage {
  return PAINTERS[kind](image, face, rng);
}

/**
 * One or, a quarter of the time, two accessories of different kinds (dark glasses and a cap are a
 * common pair), chosen uniformly. Returns the kinds painted.
 */
export function paintRandomAccessories(
  image: RgbImage,
  face: FaceGeometry,
  rng: Rng,
): { image: RgbImage; kinds: AccessoryKind[] } {
  const first = ACCESSORY_KINDS[rng.int(ACCESSORY_KINDS.length)];
  const kinds: AccessoryKind[] = [first];
  if (rng.next() < 0.25) {
    const others = ACCESSORY_KINDS.filter((k) => k !== first);
    kinds.push(others[rng.int(others.length)]);
  }
  let out = image;
  for (const k of kinds) out = paintAccessory(out, face, k, rng);
  return { image: out, kinds };
}

/** A face-sized place anywhere in an image, for painting accessories onto non-faces. */
export function randomFaceGeometry(width: number, height: number, rng: Rng): FaceGeometry {
  const size = Math.min(width, height) * (0.3 + 0.5 * rng.next());
  return {
    cx: width * rng.next(),
    cy: height * rng.next(),
    width: size * (0.85 + 0.2 * rng.next()),
    height: size,
    tilt: (rng.next() - 0.5) * 0.5,
  };
}
