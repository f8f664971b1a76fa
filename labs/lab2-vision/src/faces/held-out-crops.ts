import path from 'node:path';
import { Rng, tf } from '@introdl/core';
import { windowBoxes } from '../detect/sliding-window.js';
import { readImage } from '../image/codec.js';
import { resizeBilinear } from '../image/resize.js';
import { cropImage, toUnitFloats } from '../image/rgb-image.js';
import { bootstrapInterval, mean, rateAtLeast } from './bootstrap.js';
import { headBox, showsHead } from './crop-windows.js';
import { anyFaces } from './face-boxes.js';
import { faceProbabilities } from './face-input.js';

/**
 * Non-face crops of photos the model never saw (build-dataset holds astronaut.png and coffee.png
 * out): windows drawn at random from the sliding-window detector's own grid, minus any window that
 * shows a head the reference detector finds (the astronaut's). How often they stay below P = 0.5
 * is the classifier's false-positive side, measured where it matters: on new photos.
 */

export interface HeldOutCrops {
  photo: string;
  /** The crops as one [n, 64, 64, 3] RGB [0, 1] tensor (the caller disposes it). */
  x: tf.Tensor4D;
  n: number;
}

/** `count` face-free detector windows of `file`, seeded. */
export async function heldOutCrops(file: string, count: number, seed: number): Promise<HeldOutCrops> {
  const image = readImage(file);
  const heads = (await anyFaces(image)).map(headBox);
  const grid = windowBoxes(image.width, image.height).filter((b) => !showsHead(b, heads));
  const rng = new Rng(seed);
  const order = rng.permutation(grid.length);
  const n = Math.min(count, grid.length);
  const data = new Float32Array(n * 64 * 64 * 3);
  for (let k = 0; k < n; k++)
    data.set(toUnitFloats(resizeBilinear(cropImage(image, grid[order[k]]), 64, 64)), k * 64 * 64 * 3);
  return { photo: path.basename(file), x: tf.tensor4d(data, [n, 64, 64, 3]), n };
}

/** One model's result on one photo's crops. */
export interface NonFaceResult {
  photo: string;
  n: number;
  meanP: number;
  /** Share of crops below P(face) = 0.5, with its bootstrap 95% interval. */
  belowHalf: number;
  belowHalfInterval: [number, number];
  maxP: number;
}

/** Scores one photo's crops with a model. */
export function scoreCrops(
  crops: HeldOutCrops,
  faceLogit: (x: tf.Tensor4D) => tf.Tensor2D,
  options: { resamples?: number; seed?: number } = {},
): NonFaceResult {
  const p = Array.from(faceProbabilities(faceLogit, crops.x));
  const below = (xs: ArrayLike<number>) => 1 - rateAtLeast(0.5)(xs);
  return {
    photo: crops.photo,
    n: p.length,
    meanP: mean(p),
    belowHalf: below(p),
    belowHalfInterval: bootstrapInterval(p, below, { resamples: options.resamples, seed: options.seed }),
    maxP: p.reduce((a, v) => Math.max(a, v), 0),
  };
}
