/**
 * Loading an MNIST-format image-classification split (Fashion-MNIST, MNIST) into flat typed arrays
 * ready to become tensors.
 */

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assertShape, BadFileError, BadFlagError, MissingFileError } from '../errors.js';
import type { DatasetSpec } from './dataset-spec.js';
import { readIdx } from './idx.js';
import { type LocateOptions, locateDataset } from './locate.js';

/** Which half of the data set. */
export type Split = 'train' | 'test';

/** Images and labels of one split. */
export interface ImageClassificationData {
  /** `n * height * width` pixels, row-major, scaled from 0..255 to [0, 1]. */
  images: Float32Array;
  /** `n` class indices. */
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  /** The files read, for messages and run records. */
  files: { images: string; labels: string };
}

/** Options of {@link loadImageClassification}. */
export interface LoadImageClassificationOptions {
  split: Split;
  /** Keep only the first `limit` examples (for quick runs and tests). */
  limit?: number;
  /** How to find the data when a spec is given. */
  locate?: LocateOptions;
}

const IMAGE_SIZE = 28;

/**
 * Reads one split of an MNIST-format data set: `train-*` or `t10k-*` images and labels, gzipped or
 * not.
 *
 * @param source - a spec, found with {@link locateDataset}, or a folder holding the files.
 * @throws MissingFileError / MissingDataError when the files are not there.
 * @throws BadShapeError (naming the file) unless images are [N, 28, 28] and labels [N].
 * @throws BadFileError when the files are of the wrong type or hold different numbers of examples.
 */
export async function loadImageClassification(
  source: DatasetSpec | { dir: string },
  options: LoadImageClassificationOptions,
): Promise<ImageClassificationData> {
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new BadFlagError(`limit must be a positive whole number, got ${limit}`);
  }
  // The files are named after the original MNIST release, which called the test split "t10k".
  const prefix = options.split === 'train' ? 'train' : 't10k';
  // Locate once: two parallel locates could start two downloads of the same files.
  const available = 'files' in source ? (await locateDataset(source, options.locate)).files : undefined;
  const dir = 'files' in source ? undefined : source.dir;
  // One after the other, so that when both are missing the images file is the one named.
  const find = (base: string) => (available ? pickFile(available, base) : findFile(dir!, base));
  const imagesFile = await find(`${prefix}-images-idx3-ubyte`);
  const labelsFile = await find(`${prefix}-labels-idx1-ubyte`);
  const [images, labels] = await Promise.all([readIdx(imagesFile), readIdx(labelsFile)]);

  if (images.dtype !== 'uint8') throw new BadFileError(imagesFile, `expected uint8 pixels, found ${images.dtype}`);
  assertShape(imagesFile, images.shape, [null, IMAGE_SIZE, IMAGE_SIZE]);
  if (labels.dtype === 'float32' || labels.dtype === 'float64') {
    throw new BadFileError(labelsFile, `expected integer labels, found ${labels.dtype}`);
  }
  assertShape(labelsFile, labels.shape, [null]);
  const [count, height, width] = images.shape;
  if (labels.shape[0] !== count) {
    throw new BadFileError(labelsFile, `holds ${labels.shape[0]} labels but ${imagesFile} holds ${count} images`);
  }

  const n = Math.min(count, limit ?? count);
  const labelArray = Int32Array.from(labels.data.subarray(0, n));
  const negative = labelArray.findIndex((label) => label < 0);
  if (negative >= 0)
    throw new BadFileError(labelsFile, `the label at index ${negative} is negative (${labelArray[negative]})`);

  const pixels = images.data.subarray(0, n * height * width);
  const scaled = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) scaled[i] = pixels[i] / 255;
  return { images: scaled, labels: labelArray, n, height, width, files: { images: imagesFile, labels: labelsFile } };
}

/** The located path of `<base>.gz`, or of the uncompressed `<base>`. */
function pickFile(files: Record<string, string>, base: string): string {
  const path = files[`${base}.gz`] ?? files[base];
  // A spec without the file is a mistake in the spec, not something the user can fix.
  if (path === undefined) throw new TypeError(`the data set has no file ${base}(.gz)`);
  return path;
}

/** The path of `<base>.gz`, or of the uncompressed `<base>`, in `dir`. */
async function findFile(dir: string, base: string): Promise<string> {
  for (const name of [`${base}.gz`, base]) {
    const path = join(dir, name);
    if ((await stat(path).catch(() => undefined))?.isFile()) return path;
  }
  throw new MissingFileError(join(dir, `${base}.gz`), `Neither it nor ${base} exists`);
}
