import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BadShapeError, IntrodlError, tempPathFor } from '@introdl/core';
import { h5Ready, quietly } from './hdf5.js';

/**
 * Writes a face file in the course's `train_face.h5` layout: `images` (N, 64, 64, 3) uint8 in BGR
 * order (gzip-compressed in chunks of 64 images) and `labels` (N, 1) float32, plus attributes
 * (numbers or strings; objects are stored as JSON strings), and optionally more image sets in the
 * same layout as `<name>_images` / `<name>_labels` (build-dataset's `validation` set). The file is
 * written under a temporary name and renamed, so a reader never sees half of it.
 */
export async function writeFaceFile(
  file: string,
  bgrImages: Uint8Array,
  labels: ArrayLike<number>,
  attributes: Record<string, unknown> = {},
  moreSets: { name: string; bgrImages: Uint8Array; labels: ArrayLike<number> }[] = [],
): Promise<string> {
  const sets = [{ name: '', bgrImages, labels }, ...moreSets.map((s) => ({ ...s, name: `${s.name}_` }))];
  for (const s of sets)
    if (s.bgrImages.length !== s.labels.length * 64 * 64 * 3)
      throw new BadShapeError(
        `face images ${s.name}`,
        [s.labels.length, 64, 64, 3],
        [s.bgrImages.length / (64 * 64 * 3), 64, 64, 3],
      );
  const h5 = await h5Ready();
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temp = tempPathFor(path.resolve(file));
  try {
    const { value: f } = quietly(() => new h5.File(temp, 'w'));
    if (f.file_id < 0n) throw new IntrodlError(`${file}: cannot create the HDF5 file (is the folder writable?)`);
    try {
      for (const s of sets) {
        const n = s.labels.length;
        f.create_dataset({
          name: `${s.name}images`,
          data: s.bgrImages,
          shape: [n, 64, 64, 3],
          dtype: '<B',
          chunks: [Math.max(1, Math.min(64, n)), 64, 64, 3],
          compression: 4,
        });
        f.create_dataset({ name: `${s.name}labels`, data: Float32Array.from(s.labels), shape: [n, 1], dtype: '<f' });
      }
      for (const [key, value] of Object.entries(attributes)) {
        const v = typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value);
        f.create_attribute(key, v);
      }
    } finally {
      f.close();
    }
    renameSync(temp, file);
    return file;
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** RGB bytes (an RgbImage's data) to the file's BGR order, into `out` at `offset`. */
export function rgbToBgrInto(rgb: Uint8Array, out: Uint8Array, offset: number): void {
  for (let p = 0; p < rgb.length; p += 3) {
    out[offset + p] = rgb[p + 2];
    out[offset + p + 1] = rgb[p + 1];
    out[offset + p + 2] = rgb[p];
  }
}
