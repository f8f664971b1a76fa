import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeEach, describe, expect, it } from 'vitest';
import { BadFileError, BadFlagError, BadShapeError, MissingFileError } from '../errors.js';
import { FASHION_MNIST, FASHION_MNIST_CLASSES } from './fashion-mnist.js';
import { encodeIdx, type IdxArray } from './idx.js';
import { loadImageClassification } from './image-classification.js';
import { locateDataset } from './locate.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'introdl-images-'));
  return () => rm(dir, { recursive: true, force: true });
});

/** n images whose pixel (i, 0, 0) is 255 * (i % 2) and all else i; labels i % 10. */
function toySplit(n: number, labelCount = n, size = 28): { images: IdxArray; labels: IdxArray } {
  const pixels = new Uint8Array(n * size * size);
  for (let i = 0; i < n; i++) {
    pixels.fill(i, i * size * size, (i + 1) * size * size);
    pixels[i * size * size] = 255 * (i % 2);
  }
  return {
    images: { dtype: 'uint8', shape: [n, size, size], data: pixels },
    labels: { dtype: 'uint8', shape: [labelCount], data: Uint8Array.from({ length: labelCount }, (_, i) => i % 10) },
  };
}

async function writeSplit(prefix: string, split: { images: IdxArray; labels: IdxArray }, gzip = true): Promise<void> {
  const ext = gzip ? '.gz' : '';
  const encode = (a: IdxArray) => (gzip ? gzipSync(encodeIdx(a)) : encodeIdx(a));
  await writeFile(join(dir, `${prefix}-images-idx3-ubyte${ext}`), encode(split.images));
  await writeFile(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), encode(split.labels));
}

describe('loadImageClassification from a folder', () => {
  it('scales pixels to [0, 1] and keeps labels', async () => {
    await writeSplit('t10k', toySplit(3));
    const data = await loadImageClassification({ dir }, { split: 'test' });
    expect(data).toMatchObject({ n: 3, height: 28, width: 28 });
    expect(data.images).toHaveLength(3 * 28 * 28);
    expect(Array.from(data.labels)).toEqual([0, 1, 2]);
    expect(data.images[0]).toBe(0);
    expect(data.images[784]).toBe(1); // image 1's first pixel is 255
    expect(data.images[785]).toBeCloseTo(1 / 255, 7);
    expect(data.images[2 * 784 + 1]).toBeCloseTo(2 / 255, 7);
    expect(data.files.images).toBe(join(dir, 't10k-images-idx3-ubyte.gz'));
  });

  it('reads uncompressed files and the train split', async () => {
    await writeSplit('train', toySplit(4), false);
    const data = await loadImageClassification({ dir }, { split: 'train', limit: 2 });
    expect(data.n).toBe(2);
    expect(data.images).toHaveLength(2 * 784);
    expect(Array.from(data.labels)).toEqual([0, 1]);
  });

  it('reports a count mismatch between labels and images', async () => {
    await writeSplit('t10k', toySplit(3, 2));
    const error = await loadImageClassification({ dir }, { split: 'test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadFileError);
    expect((error as BadFileError).file).toBe(join(dir, 't10k-labels-idx1-ubyte.gz'));
    expect((error as Error).message).toMatch(/holds 2 labels but .*t10k-images-idx3-ubyte\.gz holds 3 images/);
  });

  it('reports images of the wrong shape, naming the file', async () => {
    await writeSplit('t10k', toySplit(2, 2, 32));
    const error = await loadImageClassification({ dir }, { split: 'test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadShapeError);
    expect((error as Error).message).toContain('t10k-images-idx3-ubyte.gz');
    expect((error as Error).message).toContain('expected shape [?, 28, 28], got [2, 32, 32]');
  });

  it('reports images that are not bytes', async () => {
    const split = toySplit(1);
    split.images = { dtype: 'float32', shape: [1, 28, 28], data: new Float32Array(784) };
    await writeSplit('t10k', split);
    await expect(loadImageClassification({ dir }, { split: 'test' })).rejects.toThrow(/expected uint8 pixels/);
  });

  it('names the missing file', async () => {
    const error = await loadImageClassification({ dir }, { split: 'test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingFileError);
    expect((error as Error).message).toContain('t10k-images-idx3-ubyte.gz');
  });

  it('rejects a limit that is not a positive whole number', async () => {
    await expect(loadImageClassification({ dir }, { split: 'test', limit: 0 })).rejects.toThrow(BadFlagError);
    await expect(loadImageClassification({ dir }, { split: 'test', limit: 1.5 })).rejects.toThrow(BadFlagError);
  });
});

const fashion = await locateDataset(FASHION_MNIST, { download: false }).catch(() => undefined);

describe.skipIf(!fashion)('loadImageClassification of the real Fashion-MNIST', () => {
  it('loads the test split', async () => {
    const data = await loadImageClassification(FASHION_MNIST, { split: 'test', locate: { download: false } });
    expect(data).toMatchObject({ n: 10000, height: 28, width: 28 });
    expect(data.images).toHaveLength(10000 * 28 * 28);
    expect(Array.from(data.labels.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
    let min = Infinity;
    let max = -Infinity;
    for (const p of data.images) {
      min = Math.min(min, p);
      max = Math.max(max, p);
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    // Fashion-MNIST's test split is balanced: 1,000 of each class.
    const counts = new Array(FASHION_MNIST_CLASSES.length).fill(0);
    for (const label of data.labels) counts[label]++;
    expect(counts).toEqual(new Array(10).fill(1000));
  });
});
