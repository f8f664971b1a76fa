import { classCounts, type DigitsDataset, loadDigits } from './digits/data.js';
import { FaceDataset } from './faces/face-dataset.js';

/** `introdl lab2 data`: what is in the data sets, as plain numbers. */

export interface DigitsStats {
  dataset: DigitsDataset;
  dir: string;
  splits: {
    split: string;
    images: number;
    height: number;
    width: number;
    meanPixel: number;
    stdPixel: number;
    perClass: Record<string, number>;
  }[];
}

export async function digitsStats(dataset: DigitsDataset, dir?: string): Promise<DigitsStats> {
  const splits: DigitsStats['splits'] = [];
  let folder = '';
  for (const split of ['train', 'test'] as const) {
    const d = await loadDigits({ dataset, split, dir });
    folder = d.files.images.replace(/[^/\\]*$/, '');
    let sum = 0;
    let sq = 0;
    for (const v of d.images) {
      sum += v;
      sq += v * v;
    }
    const m = sum / d.images.length;
    const counts = classCounts(d.labels, d.classes.length);
    splits.push({
      split,
      images: d.n,
      height: d.height,
      width: d.width,
      meanPixel: m,
      stdPixel: Math.sqrt(sq / d.images.length - m * m),
      perClass: Object.fromEntries(d.classes.map((c, i) => [c, counts[i]])),
    });
  }
  return { dataset, dir: folder, splits };
}

export interface FaceFileStats {
  file: string;
  images: number;
  faces: number;
  nonFaces: number;
  /** Mean R, G, B in [0, 1] of faces and of non-faces (after the BGR → RGB flip). */
  meanRgb: { faces: number[]; nonFaces: number[] };
  attributes: Record<string, unknown>;
}

export async function faceFileStats(file: string): Promise<FaceFileStats> {
  const data = await FaceDataset.open(file);
  const meanOf = (indices: Int32Array) => {
    const sums = [0, 0, 0];
    for (const i of indices) {
      const x = data.rgbFloats([i]);
      for (let p = 0; p < x.length; p += 3) for (let c = 0; c < 3; c++) sums[c] += x[p + c];
    }
    const n = indices.length * 64 * 64;
    return sums.map((s) => (n ? s / n : Number.NaN));
  };
  return {
    file,
    images: data.size,
    faces: data.faceCount,
    nonFaces: data.nonFaceCount,
    meanRgb: { faces: meanOf(data.faceIndices), nonFaces: meanOf(data.nonFaceIndices) },
    attributes: data.attributes,
  };
}
