import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Rng, tf, useBackend } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomImage, skimagePhoto, syntheticFaceSet, tempDir } from '../../test/fixtures.js';
import { trainFaces } from '../faces/train-faces.js';
import { writeFaceFile } from '../faces/write-face-file.js';
import { readImage, writePng } from '../image/codec.js';
import type { RgbImage } from '../image/rgb-image.js';
import { bestMatches, iou, nonMaxSuppression, voteBoxes } from './boxes.js';
import { detectImages } from './detect-images.js';
import { referenceDetect } from './reference-detector.js';
import { detectFaces, windowBoxes } from './sliding-window.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('boxes', () => {
  it('IoU of identical, disjoint and half-overlapping boxes', () => {
    const a = { x: 0, y: 0, width: 10, height: 10 };
    expect(iou(a, a)).toBe(1);
    expect(iou(a, { x: 20, y: 0, width: 10, height: 10 })).toBe(0);
    expect(iou(a, { x: 5, y: 0, width: 10, height: 10 })).toBeCloseTo(50 / 150, 12);
  });

  it('non-maximum suppression keeps the best of overlapping boxes and separate ones', () => {
    const boxes = [
      { x: 0, y: 0, width: 10, height: 10, score: 0.6 },
      { x: 1, y: 1, width: 10, height: 10, score: 0.9 },
      { x: 50, y: 50, width: 10, height: 10, score: 0.7 },
    ];
    expect(nonMaxSuppression(boxes, 0.3).map((b) => b.score)).toEqual([0.9, 0.7]);
    // A small box inside a better one goes too (IoU 0.25 alone would keep it).
    const nested = [
      { x: 0, y: 0, width: 20, height: 20, score: 0.9 },
      { x: 5, y: 5, width: 10, height: 10, score: 0.8 },
    ];
    expect(nonMaxSuppression(nested, 0.3).length).toBe(1);
    expect(bestMatches([{ x: 1, y: 1, width: 10, height: 10 }], boxes)).toEqual([1]);
    // Voting moves the kept box to the score-weighted mean of its overlapping neighbours.
    const voted = voteBoxes([boxes[1]], boxes, 0.3)[0];
    expect(voted.x).toBeCloseTo((0.6 * 0 + 0.9 * 1) / 1.5, 12);
    expect(voted.score).toBe(0.9);
  });

  it('windows: several sizes, stride 0.2 of the window, all inside the image', () => {
    const w = windowBoxes(100, 80, { sizes: 2, minFraction: 0.5, maxFraction: 1 });
    const sizes = [...new Set(w.map((b) => b.width))];
    expect(sizes).toEqual([40, 80]);
    // size 40, stride 8: 8 columns × 6 rows; size 80, stride 16: 2 columns × 1 row.
    expect(w.length).toBe(48 + 2);
    expect(w.every((b) => b.x + b.width <= 100 && b.y + b.height <= 80)).toBe(true);
  });
});

/** A noisy grey photo with a bright red square at (x, y, size). */
function photoWithTarget(x: number, y: number, size: number): RgbImage {
  const img = randomImage(200, 160, new Rng(1));
  for (let i = 0; i < img.data.length; i += 3) {
    const v = img.data[i] >> 2;
    img.data.set([v, v, v], i);
  }
  for (let r = y; r < y + size; r++) for (let c = x; c < x + size; c++) img.data.set([240, 30, 30], (r * 200 + c) * 3);
  return img;
}

describe('sliding-window detection', () => {
  it('finds the one window-sized target a classifier responds to, after suppression', () => {
    const target = { x: 60, y: 40, width: 50, height: 50 };
    const photo = photoWithTarget(target.x, target.y, target.width);
    // A stand-in "face" classifier: high when the window's centre is red and its border is not,
    // i.e. when the window frames the target.
    const framesRed = (x: tf.Tensor4D) =>
      tf.tidy(() => {
        const [r, , b] = tf.split(x, 3, 3);
        const red = tf.sub(r, b);
        const centre = tf.mean(tf.slice(red, [0, 16, 16, 0], [-1, 32, 32, -1]), [1, 2, 3]);
        const border = tf.mean(
          tf.concat([tf.slice(red, [0, 0, 0, 0], [-1, 6, -1, -1]), tf.slice(red, [0, 58, 0, 0], [-1, 6, -1, -1])], 1),
          [1, 2, 3],
        );
        return tf.sub(tf.mul(tf.sub(centre, border), 10), 4).reshape([-1, 1]) as tf.Tensor2D;
      });
    const found = detectFaces(photo, framesRed, { sizes: 6, minFraction: 0.2, maxFraction: 0.8 });
    expect(found.boxes.length).toBe(1);
    expect(iou(found.boxes[0], target)).toBeGreaterThan(0.4);
    // Windows inside the target score low (their border is red too).
    expect(found.windows).toBeGreaterThan(100);
  });
});

describe('the reference detector (face-api tiny face detector, weights from the npm package)', () => {
  const astronaut = skimagePhoto('astronaut.png');
  const coffee = skimagePhoto('coffee.png');

  it.skipIf(!astronaut)("finds the astronaut's face (scikit-image's astronaut.png)", async () => {
    const boxes = await referenceDetect(readImage(astronaut!));
    expect(boxes.length).toBe(1);
    // The face is near (163, 76) with a side of about 115 px.
    expect(iou(boxes[0], { x: 163, y: 76, width: 116, height: 111 })).toBeGreaterThan(0.8);
  });

  it.skipIf(!coffee)('finds no face in coffee.png', async () => {
    expect(await referenceDetect(readImage(coffee!))).toEqual([]);
  });
});

describe('introdl lab2 detect', () => {
  it('runs the classifier and the reference on photos, draws the boxes and records the agreement', async () => {
    const dir = tempDir();
    const { bgr, labels } = syntheticFaceSet(4, 4, 2);
    const facesFile = await writeFaceFile(path.join(dir, 'f.h5'), bgr, labels);
    const ckpt = path.join(dir, 'clf');
    await trainFaces({
      model: 'classifier',
      facesFile,
      steps: 1,
      batchSize: 4,
      evalSample: 8,
      seed: 1,
      out: ckpt,
      progress: 'silent',
      log: () => {},
    });
    const photo = path.join(dir, 'photo.png');
    await writePng(photo, photoWithTarget(20, 20, 60));
    const images = [photo, ...(skimagePhoto('astronaut.png') ? [skimagePhoto('astronaut.png')!] : [])];
    const r = await detectImages({
      checkpoint: ckpt,
      images,
      sizes: 3,
      seed: 1,
      out: path.join(dir, 'detect'),
      log: () => {},
    });
    expect(r.results).toHaveLength(images.length);
    for (const d of r.results) {
      expect(d.windows).toBeGreaterThan(0);
      expect(readFileSync(d.picture).subarray(1, 4).toString()).toBe('PNG');
      expect(d.agreement).toHaveLength(d.reference!.length);
    }
    expect(existsSync(path.join(dir, 'detect', 'outputs', 'detections.json'))).toBe(true);
  }, 300_000);
});
