/**
 * Small data the tests build themselves, in os.tmpdir(): IDX digit sets, PNG/JPEG images, HDF5
 * face files, course-style face folders.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, Rng, tf, useBackend } from '@introdl/core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbImage } from '../src/image/rgb-image.js';

export function tempDir(prefix = 'lab2-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * The fastest backend that can train convolutions here: wasm once core registers its
 * Conv2DBackpropFilter kernel, the cpu backend otherwise.
 */
export async function useTrainingBackend(): Promise<string> {
  const sel = await useBackend('wasm');
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return sel.name;
  await useBackend('cpu');
  return 'cpu';
}

/**
 * A tiny 10-class IDX data set (train and test) whose classes are easy to tell apart: class k is
 * a bright horizontal bar at row 2k + 4 plus noise.
 */
export function writeDigitFixture(dir: string, train = 200, test = 50, seed = 1): string {
  const rng = new Rng(seed);
  mkdirSync(dir, { recursive: true });
  for (const [prefix, n] of [
    ['train', train],
    ['t10k', test],
  ] as const) {
    const images = new Uint8Array(n * 784);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const k = i % 10;
      labels[i] = k;
      for (let p = 0; p < 784; p++) images[i * 784 + p] = rng.int(40);
      const row = 2 * k + 4;
      for (let x = 4; x < 24; x++) images[i * 784 + row * 28 + x] = 220 + rng.int(30);
    }
    // The training images gzipped, the rest raw: the reader takes both.
    const encoded = encodeIdx({ dtype: 'uint8', shape: [n, 28, 28], data: images });
    if (prefix === 'train') writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(encoded));
    else writeFileSync(path.join(dir, `${prefix}-images-idx3-ubyte`), encoded);
    writeFileSync(
      path.join(dir, `${prefix}-labels-idx1-ubyte`),
      encodeIdx({ dtype: 'uint8', shape: [n], data: labels }),
    );
  }
  return dir;
}

/** A random RGB image. */
export function randomImage(width: number, height: number, rng: Rng): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(256);
  return { width, height, data };
}

/** Writes a PNG with 1 (grey), 3 (RGB) or 4 (RGBA) channels from per-pixel channel values. */
export function writePngChannels(
  file: string,
  width: number,
  height: number,
  channels: 1 | 3 | 4,
  pixel: (x: number, y: number) => number[],
): void {
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const v = pixel(x, y);
      const i = (y * width + x) * 4;
      if (channels === 1) rgba.set([v[0], v[0], v[0], 255], i);
      else rgba.set([v[0], v[1], v[2], channels === 4 ? v[3] : 255], i);
    }
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    PNG.sync.write({ width, height, data: rgba }, { colorType, inputColorType: 6, inputHasAlpha: true }),
  );
}

/** Writes an RGB image as JPEG (quality 95). */
export function writeJpeg(file: string, image: RgbImage): void {
  const rgba = Buffer.alloc(image.width * image.height * 4);
  for (let i = 0; i < image.width * image.height; i++)
    rgba.set([image.data[3 * i], image.data[3 * i + 1], image.data[3 * i + 2], 255], 4 * i);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, jpeg.encode({ width: image.width, height: image.height, data: rgba }, 95).data);
}

/**
 * Face-like and not-face-like 64×64 RGB images that a tiny model can tell apart: "faces" are a
 * warm disc on a dark background, "non-faces" are cool stripes.
 */
export function syntheticFace(rng: Rng, size = 64): RgbImage {
  const data = new Uint8Array(size * size * 3);
  const cx = size / 2 + rng.int(7) - 3;
  const cy = size / 2 + rng.int(7) - 3;
  const r = size * (0.28 + 0.08 * rng.next());
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inside = (x - cx) ** 2 + ((y - cy) * 0.8) ** 2 < r * r;
      const i = (y * size + x) * 3;
      data[i] = inside ? 200 + rng.int(40) : 20 + rng.int(20);
      data[i + 1] = inside ? 150 + rng.int(30) : 20 + rng.int(20);
      data[i + 2] = inside ? 110 + rng.int(30) : 30 + rng.int(20);
    }
  return { width: size, height: size, data };
}

export function syntheticNonFace(rng: Rng, size = 64): RgbImage {
  const data = new Uint8Array(size * size * 3);
  const period = 4 + rng.int(8);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const on = Math.floor((x + y) / period) % 2 === 0;
      const i = (y * size + x) * 3;
      data[i] = on ? 40 + rng.int(30) : 10;
      data[i + 1] = on ? 120 + rng.int(60) : 30;
      data[i + 2] = on ? 200 + rng.int(55) : 60;
    }
  return { width: size, height: size, data };
}

/** BGR bytes and labels of `faces` synthetic faces and `nonFaces` non-faces, interleaved. */
export function syntheticFaceSet(faces: number, nonFaces: number, seed = 1): { bgr: Uint8Array; labels: Float32Array } {
  const rng = new Rng(seed);
  const n = faces + nonFaces;
  const bgr = new Uint8Array(n * 64 * 64 * 3);
  const labels = new Float32Array(n);
  const order = rng.permutation(n);
  for (let k = 0; k < n; k++) {
    const i = order[k];
    const face = k < faces;
    const img = face ? syntheticFace(rng) : syntheticNonFace(rng);
    for (let p = 0; p < img.data.length; p += 3) {
      bgr[i * 12288 + p] = img.data[p + 2];
      bgr[i * 12288 + p + 1] = img.data[p + 1];
      bgr[i * 12288 + p + 2] = img.data[p];
    }
    labels[i] = face ? 1 : 0;
  }
  return { bgr, labels };
}

/** The course's test-face folders, 5 images a group, as RGBA PNGs of different sizes. */
export function writeTestFaces(root: string, seed = 1): string {
  const rng = new Rng(seed);
  const dir = path.join(root, 'lab2-faces', 'test_faces');
  for (const g of ['LF', 'LM', 'DF', 'DM']) {
    for (let i = 0; i < 5; i++) {
      const size = 80 + 20 * i;
      const face = syntheticFace(rng, size);
      writePngChannels(path.join(dir, g, `face_${i}.png`), size, size, 4, (x, y) => {
        const j = (y * size + x) * 3;
        return [face.data[j], face.data[j + 1], face.data[j + 2], 255];
      });
    }
  }
  return dir;
}

/**
 * scikit-image's sample photos: where Debian's python3-skimage installs them, or SKIMAGE_DATA.
 */
export const SKIMAGE_DATA = process.env.SKIMAGE_DATA ?? '/usr/lib/python3/dist-packages/skimage/data';
export const skimagePhoto = (name: string): string | undefined => {
  const p = path.join(SKIMAGE_DATA, name);
  return existsSync(p) ? p : undefined;
};

/** A London-set folder: `perGroup` portraits a group and groups.csv (file,skin,gender). */
export function writeLondonSet(root: string, perGroup = 3, seed = 2): string {
  const rng = new Rng(seed);
  const dir = path.join(root, 'lab2-faces', 'london');
  const rows = ['file,skin,gender'];
  const groups: [string, string][] = [
    ['lighter', 'female'],
    ['lighter', 'male'],
    ['darker', 'female'],
    ['darker', 'male'],
  ];
  groups.forEach(([skin, gender], g) => {
    for (let i = 0; i < perGroup; i++) {
      const name = `neutral_front/${g}${i}_03.jpg`;
      writeJpeg(path.join(dir, name), syntheticFace(rng, 100));
      rows.push(`${name},${skin},${gender}`);
    }
  });
  writeFileSync(path.join(dir, 'groups.csv'), `${rows.join('\n')}\n`);
  return dir;
}
