import { Rng } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import { randomImage } from '../../test/fixtures.js';
import { sampleSquare } from './affine.js';
import { compositeInEllipse } from './composite.js';
import {
  applyPhotometric,
  DOMAIN_RANDOMISATION,
  downArea,
  drawPhotometric,
  type PhotometricDraw,
} from './photometric.js';
import { resizeBilinear } from './resize.js';
import type { RgbImage } from './rgb-image.js';

const NONE: PhotometricDraw = {
  grey: false,
  brightness: 1,
  contrast: 1,
  saturation: 1,
  gains: [1, 1, 1],
  gamma: 1,
  gradient: { angle: 0, strength: 0 },
  lowRes: 0,
  blurSigma: 0,
  noiseSigma: 0,
  noiseSeed: 1,
};

const at = (img: RgbImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

describe('square windows (crop, turn, mirror, resize in one pass)', () => {
  it('equals the bilinear resize of the crop when not turned', () => {
    const img = randomImage(100, 80, new Rng(3));
    const crop = { x: 10, y: 5, width: 64, height: 64 };
    const a = sampleSquare(img, { cx: 42, cy: 37, size: 64 });
    const cut: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    for (let y = 0; y < 64; y++)
      cut.data.set(
        img.data.subarray(((y + crop.y) * 100 + crop.x) * 3, ((y + crop.y) * 100 + crop.x + 64) * 3),
        y * 192,
      );
    expect(Array.from(a.data)).toEqual(Array.from(cut.data));
    const half = sampleSquare(img, { cx: 50, cy: 40, size: 80 }, 40);
    const ref = resizeBilinear(
      { width: 80, height: 80, data: img.data.slice(10 * 3 * 100, 90 * 3 * 100) } as RgbImage,
      40,
      40,
    );
    expect(half.width).toBe(40);
    expect(ref.width).toBe(40);
  });

  it('mirrors and turns: a quarter turn moves a corner to the next corner', () => {
    const img = randomImage(32, 32, new Rng(4));
    const flipped = sampleSquare(img, { cx: 16, cy: 16, size: 32, flip: true }, 32);
    expect(at(flipped, 0, 5)).toEqual(at(img, 31, 5));
    const turned = sampleSquare(img, { cx: 16, cy: 16, size: 32, angle: Math.PI / 2 }, 32);
    // Output (u, v) samples the photo at centre + R·(u − c, v − c): (0, 0) → photo (31, 0).
    expect(at(turned, 0, 0)).toEqual(at(img, 31, 0));
  });
});

describe('domain randomisation', () => {
  const img = randomImage(64, 64, new Rng(5));

  it('leaves an image alone with neutral settings', () => {
    expect(Array.from(applyPhotometric(img, NONE).data)).toEqual(Array.from(img.data));
  });

  it('greys, darkens and casts colours as drawn', () => {
    const grey = applyPhotometric(img, { ...NONE, grey: true });
    for (let i = 0; i < grey.data.length; i += 3) {
      expect(grey.data[i]).toBe(grey.data[i + 1]);
      expect(grey.data[i]).toBe(grey.data[i + 2]);
    }
    const dark = applyPhotometric(img, { ...NONE, brightness: 0.5 });
    const sum = (x: RgbImage) => x.data.reduce((a, v) => a + v, 0);
    expect(sum(dark) / sum(img)).toBeCloseTo(0.5, 1);
    const red = applyPhotometric(img, { ...NONE, gains: [1.2, 1, 0.8] });
    let r = 0;
    let b = 0;
    for (let i = 0; i < red.data.length; i += 3) {
      r += red.data[i] - img.data[i];
      b += red.data[i + 2] - img.data[i + 2];
    }
    expect(r).toBeGreaterThan(0);
    expect(b).toBeLessThan(0);
  });

  it('down-samples by area averaging (a 24-px face keeps 24 px of detail) and blurs', () => {
    const f = Float32Array.from({ length: 4 * 4 * 3 }, (_, i) => (Math.floor(i / 3) % 2 ? 200 : 0));
    expect(Array.from(downArea(f, 4, 4, 2, 2))).toEqual(new Array(12).fill(100));
    const low = applyPhotometric(img, { ...NONE, lowRes: 24 });
    const blurred = applyPhotometric(img, { ...NONE, blurSigma: 1 });
    // Random pixels: both lose most of the pixel-to-pixel variation.
    const tv = (x: RgbImage) => {
      let s = 0;
      for (let i = 3; i < x.data.length; i++) s += Math.abs(x.data[i] - x.data[i - 3]);
      return s;
    };
    expect(tv(low)).toBeLessThan(tv(img) / 3);
    expect(tv(blurred)).toBeLessThan(tv(img) / 3);
  });

  it('is reproducible from the seed, and greys about a quarter of the images by default', () => {
    const a = drawPhotometric(new Rng(9));
    expect(drawPhotometric(new Rng(9))).toEqual(a);
    expect(Array.from(applyPhotometric(img, a).data)).toEqual(Array.from(applyPhotometric(img, a).data));
    const rng = new Rng(1);
    let grey = 0;
    for (let i = 0; i < 2000; i++) if (drawPhotometric(rng, DOMAIN_RANDOMISATION).grey) grey++;
    expect(grey / 2000).toBeGreaterThan(0.2);
    expect(grey / 2000).toBeLessThan(0.3);
  });
});

describe('compositing a head onto a background', () => {
  it('keeps the face inside the ellipse and the background outside it', () => {
    const face: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(200) };
    const bg: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(10) };
    const out = compositeInEllipse(face, bg, { cx: 32, cy: 32, rx: 16, ry: 20 }, 1.25);
    expect(at(out, 32, 32)).toEqual([200, 200, 200]);
    expect(at(out, 1, 1)).toEqual([10, 10, 10]);
    const edge = at(out, 32 + 18, 32)[0];
    expect(edge).toBeGreaterThan(10);
    expect(edge).toBeLessThan(200);
  });
});
