import type { Rng } from '@introdl/core';
import { type Box, blankImage, type RgbImage } from './rgb-image.js';

/**
 * Augmentations for build-dataset's positives: colour jitter (brightness, contrast, saturation, as
 * torchvision's ColorJitter defines them) and jittered crop boxes.
 */

export interface ColorJitter {
  brightness: number;
  contrast: number;
  saturation: number;
}

/** A random jitter with each factor in [1 − amount, 1 + amount]. */
export function randomJitter(rng: Rng, amount = 0.2): ColorJitter {
  const f = () => 1 - amount + 2 * amount * rng.next();
  return { brightness: f(), contrast: f(), saturation: f() };
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Applies brightness (scale), contrast (blend with the mean grey) and saturation (blend with each pixel's grey). */
export function applyJitter(image: RgbImage, j: ColorJitter): RgbImage {
  const out = blankImage(image.width, image.height);
  const d = image.data;
  const n = image.width * image.height;
  let meanGrey = 0;
  for (let i = 0; i < n; i++) meanGrey += 0.299 * d[3 * i] + 0.587 * d[3 * i + 1] + 0.114 * d[3 * i + 2];
  meanGrey = (meanGrey / n) * j.brightness;
  for (let i = 0; i < n; i++) {
    let r = d[3 * i] * j.brightness;
    let g = d[3 * i + 1] * j.brightness;
    let b = d[3 * i + 2] * j.brightness;
    r = meanGrey + (r - meanGrey) * j.contrast;
    g = meanGrey + (g - meanGrey) * j.contrast;
    b = meanGrey + (b - meanGrey) * j.contrast;
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    out.data[3 * i] = clamp(grey + (r - grey) * j.saturation);
    out.data[3 * i + 1] = clamp(grey + (g - grey) * j.saturation);
    out.data[3 * i + 2] = clamp(grey + (b - grey) * j.saturation);
  }
  return out;
}

/**
 * A square crop box around a face box: centred on it (a little above centre, to keep the
 * forehead), `margin` times its larger side, then jittered in scale by ±`scaleJitter` and in
 * position by ±`shiftJitter` of its size; moved inside the image where possible.
 */
export function faceCropBox(
  face: Box,
  imageWidth: number,
  imageHeight: number,
  rng?: Rng,
  options: { margin?: number; scaleJitter?: number; shiftJitter?: number } = {},
): Box {
  const margin = options.margin ?? 1.2;
  const u = () => (rng ? 2 * rng.next() - 1 : 0);
  let size = Math.max(face.width, face.height) * margin * (1 + (options.scaleJitter ?? 0.08) * u());
  size = Math.min(size, imageWidth, imageHeight);
  const cx = face.x + face.width / 2 + (options.shiftJitter ?? 0.06) * size * u();
  const cy = face.y + face.height * 0.45 + (options.shiftJitter ?? 0.06) * size * u();
  const x = Math.min(Math.max(0, cx - size / 2), imageWidth - size);
  const y = Math.min(Math.max(0, cy - size / 2), imageHeight - size);
  return { x, y, width: size, height: size };
}
