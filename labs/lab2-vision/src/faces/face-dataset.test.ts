import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, BadShapeError, MissingFileError, Rng, tf } from '@introdl/core';
import h5wasm from 'h5wasm/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticFaceSet, tempDir } from '../../test/fixtures.js';
import { FaceDataset } from './face-dataset.js';
import { BadProbabilitiesError } from './sampling.js';
import { writeFaceFile } from './write-face-file.js';

const dir = tempDir();

/** Writes an HDF5 file with whatever datasets a test wants (for broken layouts). */
async function writeRaw(
  name: string,
  datasets: { name: string; data: ArrayLike<number>; shape: number[]; dtype: string }[],
) {
  await h5wasm.ready;
  const file = path.join(dir, name);
  const f = new h5wasm.File(file, 'w');
  for (const d of datasets)
    f.create_dataset({ name: d.name, data: d.data as Float32Array, shape: d.shape, dtype: d.dtype });
  f.close();
  return file;
}

describe('FaceDataset (train_face.h5 layout)', () => {
  let file: string;
  beforeAll(async () => {
    const { bgr, labels } = syntheticFaceSet(12, 10);
    // A known pixel: image 0, row 0, column 1 is B=10, G=20, R=30 in the file.
    bgr.set([10, 20, 30], 3);
    file = await writeFaceFile(path.join(dir, 'faces.h5'), bgr, labels, { seed: 5, provenance: { note: 'test' } });
  });

  it('reads back the sizes, labels and attributes it was written with', async () => {
    const data = await FaceDataset.open(file);
    expect([data.size, data.faceCount, data.nonFaceCount]).toEqual([22, 12, 10]);
    expect(data.attributes.seed).toBe(5);
    expect(JSON.parse(String(data.attributes.provenance))).toEqual({ note: 'test' });
    expect(Array.from(data.faceIndices).every((i) => data.labels[i] === 1)).toBe(true);
  });

  it('flips BGR to RGB and scales to [0, 1] (a known pixel)', async () => {
    const data = await FaceDataset.open(file);
    const x = data.rgbFloats([0]);
    expect(Array.from(x.subarray(3, 6)).map((v) => Math.round(v * 255))).toEqual([30, 20, 10]);
  });

  it('draws half faces, half non-faces, without replacement, indices sorted', async () => {
    const data = await FaceDataset.open(file);
    const b = data.getBatch(8, new Rng(1));
    expect(b.x.shape).toEqual([8, 64, 64, 3]);
    expect(b.y.shape).toEqual([8, 1]);
    const y = Array.from(b.y.dataSync());
    expect(y.filter((v) => v === 1).length).toBe(4);
    expect(new Set(b.indices).size).toBe(8);
    expect(Array.from(b.indices)).toEqual([...b.indices].sort((p, q) => p - q));
    expect(y).toEqual(Array.from(b.indices, (i) => data.labels[i]));
    const max = tf.max(b.x).dataSync()[0];
    expect(max).toBeLessThanOrEqual(1);
    tf.dispose([b.x, b.y]);
  });

  it('draws faces by the probability vector: zero-probability faces never appear', async () => {
    const data = await FaceDataset.open(file);
    const p = new Float64Array(data.faceCount);
    p.set([0.4, 0.3, 0.2, 0.1]);
    const allowed = new Set(Array.from(data.faceIndices.subarray(0, 4)));
    const rng = new Rng(3);
    for (let t = 0; t < 20; t++) {
      const b = data.getBatch(8, rng, { pPos: p });
      const faces = Array.from(b.indices).filter((i) => data.labels[i] === 1);
      expect(faces.length).toBe(4);
      expect(faces.every((i) => allowed.has(i))).toBe(true);
      tf.dispose([b.x, b.y]);
    }
  });

  it('rejects probability vectors of the wrong length, not summing to 1, or with too few non-zeros', async () => {
    const data = await FaceDataset.open(file);
    const rng = new Rng(1);
    expect(() => data.getBatch(8, rng, { pPos: new Float64Array(5).fill(0.2) })).toThrow(BadShapeError);
    expect(() => data.getBatch(8, rng, { pPos: new Float64Array(12).fill(0.1) })).toThrow(BadProbabilitiesError);
    expect(() => data.getBatch(8, rng, { pPos: new Float64Array(12).fill(0.1) })).toThrow(/sums to 1.2/);
    const sparse = new Float64Array(12);
    sparse.set([0.5, 0.5]);
    expect(() => data.getBatch(8, rng, { pPos: sparse })).toThrow(/only 2 non-zero entries/);
  });

  it('is reproducible for a seed', async () => {
    const data = await FaceDataset.open(file);
    const a = data.getBatch(8, new Rng(9)).indices;
    const b = data.getBatch(8, new Rng(9)).indices;
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('FaceDataset: bad files', () => {
  const images = (n: number) => ({
    name: 'images',
    data: new Uint8Array(n * 12288),
    shape: [n, 64, 64, 3],
    dtype: '<B',
  });
  const labels = (n: number) => ({ name: 'labels', data: new Float32Array(n).fill(1), shape: [n, 1], dtype: '<f' });

  it('a missing file and a file that is not HDF5', async () => {
    await expect(FaceDataset.open(path.join(dir, 'nope.h5'))).rejects.toThrow(MissingFileError);
    const txt = path.join(dir, 'text.h5');
    writeFileSync(txt, 'not hdf5 at all');
    await expect(FaceDataset.open(txt)).rejects.toThrow(/text\.h5: is not an HDF5 file/);
  });

  it('no images or no labels', async () => {
    const noImages = await writeRaw('no-images.h5', [labels(2)]);
    await expect(FaceDataset.open(noImages)).rejects.toThrow(/has no "images" dataset \(it has "labels"\)/);
    const noLabels = await writeRaw('no-labels.h5', [images(2)]);
    await expect(FaceDataset.open(noLabels)).rejects.toThrow(/has no "labels" dataset/);
  });

  it('wrong shapes and dtypes', async () => {
    const small = await writeRaw('small.h5', [
      { name: 'images', data: new Uint8Array(2 * 32 * 32 * 3), shape: [2, 32, 32, 3], dtype: '<B' },
      labels(2),
    ]);
    await expect(FaceDataset.open(small)).rejects.toThrow(
      /"images" has shape \[2,32,32,3\]; expected \[N, 64, 64, 3\]/,
    );
    const floats = await writeRaw('floats.h5', [
      { ...images(2), data: new Float32Array(2 * 12288), dtype: '<f' },
      labels(2),
    ]);
    await expect(FaceDataset.open(floats)).rejects.toThrow(/"images" holds float32; expected uint8/);
    const mismatch = await writeRaw('mismatch.h5', [images(3), labels(2)]);
    await expect(FaceDataset.open(mismatch)).rejects.toThrow(/"labels" has 2 rows but "images" has 3/);
    const wide = await writeRaw('wide.h5', [images(2), { ...labels(2), data: new Float32Array(4), shape: [2, 2] }]);
    await expect(FaceDataset.open(wide)).rejects.toThrow(/"labels" has shape \[2,2\]; expected \[N, 1\]/);
    const badLabel = await writeRaw('label3.h5', [images(2), { ...labels(2), data: new Float32Array([1, 3]) }]);
    await expect(FaceDataset.open(badLabel)).rejects.toThrow(/label 1 of "labels" is 3/);
  });

  it('a truncated file', async () => {
    const { bgr, labels: l } = syntheticFaceSet(40, 40, 2);
    const full = await writeFaceFile(path.join(dir, 'full.h5'), bgr, l);
    const bytes = (await import('node:fs')).readFileSync(full);
    const cut = path.join(dir, 'cut.h5');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(FaceDataset.open(cut)).rejects.toThrow(BadFileError);
    await expect(FaceDataset.open(cut)).rejects.toThrow(
      /cut\.h5: cannot be opened as HDF5 \(File has been truncated\)/,
    );
  });
});
