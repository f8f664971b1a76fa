import { blankImage, type RgbImage } from './rgb-image.js';

/**
 * One square window of a photo, rotated and scaled, sampled straight into a small image: crop,
 * rotation, flip and resize in one bilinear pass, so an augmented face never goes through a chain
 * of lossy intermediate images. Pixels outside the photo repeat its border (as OpenCV's
 * BORDER_REPLICATE does). Like the detector's resize it does not low-pass filter when shrinking,
 * so a training crop aliases exactly as a detection window does.
 */
export interface SquareWindow {
  /** Centre in photo pixels (continuous coordinates: pixel i covers [i, i + 1)). */
  cx: number;
  cy: number;
  /** Side in photo pixels. */
  size: number;
  /** Rotation of the window in radians (its content appears turned the other way). */
  angle?: number;
  /** Mirror left to right. */
  flip?: boolean;
  /** Width of the sampled area relative to its height (1 = square; a face turned a little looks narrower). */
  aspect?: number;
}

/** Samples `window` of `image` into an `out`×`out` image. */
export function sampleSquare(image: RgbImage, window: SquareWindow, out = 64): RgbImage {
  const result = blankImage(out, out);
  const { width: w, height: h, data: src } = image;
  const cos = Math.cos(window.angle ?? 0);
  const sin = Math.sin(window.angle ?? 0);
  const step = window.size / out;
  const aspect = window.aspect ?? 1;
  const mirror = window.flip ? -1 : 1;
  for (let v = 0; v < out; v++) {
    const dy = (v + 0.5) * step - window.size / 2;
    for (let u = 0; u < out; u++) {
      const dx = mirror * aspect * ((u + 0.5) * step - window.size / 2);
      // Source position in continuous coordinates, then to pixel-centre coordinates (−0.5).
      const fx = Math.min(Math.max(window.cx + dx * cos - dy * sin - 0.5, 0), w - 1);
      const fy = Math.min(Math.max(window.cy + dx * sin + dy * cos - 0.5, 0), h - 1);
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const ax = fx - x0;
      const ay = fy - y0;
      const o = (v * out + u) * 3;
      for (let c = 0; c < 3; c++) {
        const top = src[(y0 * w + x0) * 3 + c] * (1 - ax) + src[(y0 * w + x1) * 3 + c] * ax;
        const bottom = src[(y1 * w + x0) * 3 + c] * (1 - ax) + src[(y1 * w + x1) * 3 + c] * ax;
        result.data[o + c] = Math.round(top * (1 - ay) + bottom * ay);
      }
    }
  }
  return result;
}
