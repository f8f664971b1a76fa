import {
  BadFlagError,
  FASHION_MNIST,
  FASHION_MNIST_CLASSES,
  type ImageClassificationData,
  loadImageClassification,
  MNIST,
  MNIST_CLASSES,
  type Split,
} from '@introdl/core';

/**
 * Part 1's data: Fashion-MNIST by default (Debian's dataset-fashion-mnist, INTRODL_DATA, the cache,
 * or a checked download), or MNIST, the course's own data set, when the user has its files.
 * Both are the same IDX format: 28×28 grey images in 10 classes.
 */

/** Which IDX data set. */
export type DigitsDataset = 'fashion-mnist' | 'mnist';

/** One split with its class names and where it came from. */
export interface DigitsData extends ImageClassificationData {
  dataset: DigitsDataset;
  classes: readonly string[];
}

/** Options of {@link loadDigits}. */
export interface LoadDigitsOptions {
  dataset?: DigitsDataset;
  split: Split;
  /** A folder holding the four IDX files (gzipped or not); otherwise the usual search. */
  dir?: string;
  limit?: number;
  /** Allow a download when the files are nowhere on disk (default true). */
  download?: boolean;
}

/** Parses `--dataset`. */
export function parseDataset(value: unknown): DigitsDataset {
  const v = String(value ?? 'fashion-mnist').toLowerCase();
  if (v === 'fashion-mnist' || v === 'mnist') return v;
  throw new BadFlagError(`--dataset must be fashion-mnist or mnist, got "${value}"`);
}

/** Loads one split of Fashion-MNIST or MNIST, pixels scaled to [0, 1]. */
export async function loadDigits(options: LoadDigitsOptions): Promise<DigitsData> {
  const dataset = options.dataset ?? 'fashion-mnist';
  const spec = dataset === 'mnist' ? MNIST : FASHION_MNIST;
  // A folder given by the user may hold the files gzipped or not; the reader takes either.
  const source = options.dir ? { dir: options.dir } : spec;
  const data = await loadImageClassification(source, {
    split: options.split,
    limit: options.limit,
    locate: { download: options.download },
  });
  return { ...data, dataset, classes: dataset === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES };
}

/** Counts of each class, for `introdl lab2 data`. */
export function classCounts(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}
