import type { Rng } from '@introdl/core';
import type { RgbImage } from './rgb-image.js';

/**
 * Random erasing (Zhong et al., 2017): a rectangle of 5–30% of the image, of random shape, filled
 * with one random colour or with noise. Faces in photos are partly hidden (sunglasses, a hand, a
 * microphone, a fringe); a classifier that has only seen whole faces rejects them. It is applied to
 * non-faces as often as to faces, so that a blank patch says nothing about the label.
 */
export function randomErase(image: RgbImage, rng: Rng): RgbImage {
  const { width: w, height: h } = image;
  const area = w * h * (0.05 + 0.25 * rng.next());
  const ratio = Math.exp(Math.log(0.3) + (Math.log(3.3) - Math.log(0.3)) * rng.next());
  const ew = Math.max(1, Math.min(w, Math.round(Math.sqrt(area * ratio))));
  const eh = Math.max(1, Math.min(h, Math.round(Math.sqrt(area / ratio))));
  const x0 = rng.int(w - ew + 1);
  const y0 = rng.int(h - eh + 1);
  const solid = rng.next() < 0.5 ? [rng.int(256), rng.int(256), rng.int(256)] : undefined;
  const out = image.data.slice();
  for (let y = y0; y < y0 + eh; y++)
    for (let x = x0; x < x0 + ew; x++)
      for (let c = 0; c < 3; c++) out[(y * w + x) * 3 + c] = solid ? solid[c] : rng.int(256);
  return { width: w, height: h, data: out };
}
