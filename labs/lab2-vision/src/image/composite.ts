import { blankImage, type RgbImage } from './rgb-image.js';

/** An axis-aligned ellipse in pixels: centre and half-axes. */
export interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/**
 * Puts the part of `face` inside `ellipse` onto `background` (same size), with a soft edge that
 * fades from the ellipse out to `feather` times its size. Studio portraits all share one grey
 * backdrop; pasting the head onto pieces of other photos takes that shortcut away. An ellipse is
 * a rough head mask, and the seam it leaves is itself randomised by the feather.
 */
export function compositeInEllipse(face: RgbImage, background: RgbImage, ellipse: Ellipse, feather = 1.25): RgbImage {
  if (face.width !== background.width || face.height !== background.height)
    throw new Error(
      `compositeInEllipse: face ${face.width}×${face.height} and background ${background.width}×${background.height} differ`,
    );
  const out = blankImage(face.width, face.height);
  for (let y = 0; y < face.height; y++) {
    for (let x = 0; x < face.width; x++) {
      const r = Math.hypot((x + 0.5 - ellipse.cx) / ellipse.rx, (y + 0.5 - ellipse.cy) / ellipse.ry);
      // 1 inside the ellipse, 0 beyond feather × its size, smooth in between.
      const t = Math.min(1, Math.max(0, (r - 1) / Math.max(1e-6, feather - 1)));
      const m = 1 - t * t * (3 - 2 * t);
      const o = (y * face.width + x) * 3;
      for (let c = 0; c < 3; c++) out.data[o + c] = Math.round(m * face.data[o + c] + (1 - m) * background.data[o + c]);
    }
  }
  return out;
}
