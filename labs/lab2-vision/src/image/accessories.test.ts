import { Rng } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import { positiveWindow } from '../faces/crop-windows.js';
import {
  ACCESSORY_KINDS,
  type FaceGeometry,
  paintAccessory,
  paintRandomAccessories,
  randomFaceGeometry,
} from './accessories.js';
import { sampleSquare } from './affine.js';
import type { RgbImage } from './rgb-image.js';

const grey = (): RgbImage => ({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(180) });
/** A face box in the middle of a 64×64 crop, as build-dataset's median framing puts it. */
const FACE: FaceGeometry = { cx: 32, cy: 34, width: 36, height: 40, tilt: 0 };

/** Mean change of the pixels in rows [y0, y1) between the middle 60% of columns. */
function changed(a: RgbImage, b: RgbImage, y0: number, y1: number): number {
  let s = 0;
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = 13; x < 51; x++, n++)
      for (let c = 0; c < 3; c++) s += Math.abs(a.data[(y * 64 + x) * 3 + c] - b.data[(y * 64 + x) * 3 + c]) / 3;
  return s / n;
}

describe('accessories painted on faces', () => {
  // Rows of the face box: it runs from y 14 (brows) to 54 (chin); the eyes are near y 26.
  const eyes: [number, number] = [23, 29];
  const mouth: [number, number] = [44, 52];
  const forehead: [number, number] = [0, 12];

  it('dark glasses cover the eyes and darken them, not the mouth', () => {
    const img = grey();
    const out = paintAccessory(img, FACE, 'sunglasses', new Rng(1));
    expect(changed(img, out, ...eyes)).toBeGreaterThan(40);
    expect(changed(img, out, ...mouth)).toBe(0);
  });

  it('a cap covers the forehead, a scarf the mouth and chin', () => {
    const img = grey();
    for (let seed = 1; seed <= 5; seed++) {
      const cap = paintAccessory(img, FACE, 'cap', new Rng(seed));
      expect(changed(img, cap, ...forehead)).toBeGreaterThan(changed(img, cap, ...mouth));
      const scarf = paintAccessory(img, FACE, 'scarf', new Rng(seed));
      expect(changed(img, scarf, ...mouth)).toBeGreaterThan(5);
      expect(changed(img, scarf, ...forehead)).toBe(0);
    }
  });

  it('a hand covers part of the face with a skin colour (red over green over blue)', () => {
    const img: RgbImage = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    const out = paintAccessory(img, FACE, 'hand', new Rng(3));
    let r = 0;
    let b = 0;
    for (let i = 0; i < out.data.length; i += 3) {
      r += out.data[i];
      b += out.data[i + 2];
    }
    expect(r).toBeGreaterThan(b);
    expect(r).toBeGreaterThan(0);
  });

  it('follows a tilted face, is reproducible from the seed, and paints one or two kinds', () => {
    const img = grey();
    const a = paintRandomAccessories(img, FACE, new Rng(7));
    expect(Array.from(paintRandomAccessories(img, FACE, new Rng(7)).image.data)).toEqual(Array.from(a.image.data));
    const rng = new Rng(2);
    for (let i = 0; i < 50; i++) {
      const { kinds } = paintRandomAccessories(img, FACE, rng);
      expect(kinds.length === 1 || (kinds.length === 2 && kinds[0] !== kinds[1])).toBe(true);
      for (const k of kinds) expect(ACCESSORY_KINDS).toContain(k);
    }
    // Glasses on a face turned 90° lie along a column, not along a row.
    const turned = paintAccessory(img, { ...FACE, tilt: Math.PI / 2 }, 'sunglasses', new Rng(1));
    expect(changed(img, turned, ...mouth)).toBeGreaterThan(0);
    const g = randomFaceGeometry(64, 64, new Rng(1));
    expect(g.width).toBeGreaterThan(0);
  });
});

describe('where the face lands in a positive crop', () => {
  it('maps the face box through the crop, turned and mirrored as the window is', () => {
    // A bright square "face" in a dark photo: the geometry must point at it in every crop.
    const photo: RgbImage = { width: 200, height: 200, data: new Uint8Array(200 * 200 * 3) };
    const box = { x: 80, y: 70, width: 40, height: 40 };
    for (let y = box.y; y < box.y + box.height; y++)
      for (let x = box.x; x < box.x + box.width; x++) photo.data.fill(255, (y * 200 + x) * 3, (y * 200 + x) * 3 + 3);
    const rng = new Rng(11);
    for (let i = 0; i < 20; i++) {
      const { window, face } = positiveWindow(box, rng);
      const crop = sampleSquare(photo, window);
      const px = (x: number, y: number) => crop.data[(Math.round(y) * 64 + Math.round(x)) * 3];
      expect(px(face.cx, face.cy)).toBeGreaterThan(200);
      // Just outside the face's side, along its own (turned) axis.
      const out = 0.5 * face.width + 3;
      const ox = face.cx + out * Math.cos(face.tilt);
      const oy = face.cy + out * Math.sin(face.tilt);
      if (ox >= 0 && ox < 64 && oy >= 0 && oy < 64) expect(px(ox, oy)).toBeLessThan(60);
      expect(face.width).toBeGreaterThan(10);
    }
  });
});
