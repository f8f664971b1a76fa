import { BadFileError, type Rng, tf } from '@introdl/core';
import type { H5Dataset } from './hdf5.js';
import { openHdf5, readSlice } from './hdf5.js';
import { checkProbabilities, sampleWithoutReplacement } from './sampling.js';

/**
 * The course's face training set (`train_face.h5`) and its loader (`TrainingDatasetLoader`): an
 * HDF5 file with `images` (N, 64, 64, 3) uint8 in **BGR** order and `labels` (N, 1), 1 = face.
 * Everything is read into memory (as the course does); batches are half faces, half non-faces,
 * drawn without replacement (faces by a probability vector when one is given), sorted by index,
 * flipped to RGB and scaled to [0, 1].
 */

export const FACE_SIZE = 64;
const PIXELS = FACE_SIZE * FACE_SIZE * 3;
/** Images read per HDF5 call: bounded so the wasm heap never holds the whole file. */
const READ_CHUNK = 2048;
const DEFAULT_SET = { images: 'images', labels: 'labels' };

/** A batch as tensors: images [n, 64, 64, 3] RGB in [0, 1], labels [n, 1]. */
export interface FaceBatch {
  x: tf.Tensor4D;
  y: tf.Tensor2D;
}

/** Options of {@link FaceDataset.getBatch}. */
export interface BatchOptions {
  /** Sampling probabilities over the faces, in {@link FaceDataset.faceIndices} order. */
  pPos?: ArrayLike<number>;
  /** Sampling probabilities over the non-faces. */
  pNeg?: ArrayLike<number>;
  /** Only faces (the whole batch drawn from the faces). */
  onlyFaces?: boolean;
}

function describeType(d: H5Dataset): string {
  const m = d.metadata;
  const kind = m.type === 0 ? (m.signed ? 'int' : 'uint') : m.type === 1 ? 'float' : `HDF5 class ${m.type} `;
  return `${kind}${m.size * 8}`;
}

export class FaceDataset {
  private constructor(
    readonly file: string,
    /** All images, BGR uint8, N·64·64·3. */
    readonly images: Uint8Array,
    /** 1 for a face, 0 otherwise. */
    readonly labels: Float32Array,
    /** Indices of the faces, ascending. */
    readonly faceIndices: Int32Array,
    /** Indices of the non-faces, ascending. */
    readonly nonFaceIndices: Int32Array,
    /** The file's attributes (build-dataset's provenance record). */
    readonly attributes: Record<string, unknown>,
  ) {}

  /**
   * Opens and fully reads a face HDF5 file: its `images` and `labels`, or another pair of datasets
   * in the same layout (build-dataset also writes `validation_images` and `validation_labels`).
   * @throws MissingFileError / BadFileError / BadShapeError naming the file and what is wrong.
   */
  static async open(file: string, set: { images: string; labels: string } = DEFAULT_SET): Promise<FaceDataset> {
    const f = await openHdf5(file);
    try {
      const keys = f.keys();
      for (const name of [set.images, set.labels]) {
        if (!keys.includes(name)) {
          throw new BadFileError(
            file,
            `has no "${name}" dataset (it has ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'none'}); a face file needs "${set.images}" (N,64,64,3) uint8 and "${set.labels}" (N,1)`,
          );
        }
      }
      const images = f.get(set.images) as H5Dataset;
      const labels = f.get(set.labels) as H5Dataset;
      const iname = `"${set.images}"`;
      const lname = `"${set.labels}"`;
      if (!(images instanceof Object) || !('shape' in images) || images.shape === null)
        throw new BadFileError(file, `${iname} is not a dataset`);
      if (!('shape' in labels) || labels.shape === null) throw new BadFileError(file, `${lname} is not a dataset`);
      const shape = images.shape;
      if (shape.length !== 4 || shape[1] !== FACE_SIZE || shape[2] !== FACE_SIZE || shape[3] !== 3)
        throw new BadFileError(file, `${iname} has shape [${shape}]; expected [N, 64, 64, 3]`);
      const m = images.metadata;
      if (m.type !== 0 || m.size !== 1 || m.signed)
        throw new BadFileError(file, `${iname} holds ${describeType(images)}; expected uint8 pixels`);
      const n = shape[0];
      const lshape = labels.shape;
      if (!(lshape.length === 2 && lshape[1] === 1) && !(lshape.length === 1))
        throw new BadFileError(file, `${lname} has shape [${lshape}]; expected [N, 1]`);
      if (lshape[0] !== n) throw new BadFileError(file, `${lname} has ${lshape[0]} rows but ${iname} has ${n} images`);
      if (labels.metadata.type !== 0 && labels.metadata.type !== 1)
        throw new BadFileError(file, `${lname} holds ${describeType(labels)}; expected numbers (1 = face, 0 = not)`);
      if (n === 0) throw new BadFileError(file, `${iname} holds no images`);

      const pixels = new Uint8Array(n * PIXELS);
      for (let start = 0; start < n; start += READ_CHUNK) {
        const end = Math.min(n, start + READ_CHUNK);
        pixels.set(readSlice(file, images, [[start, end]]) as Uint8Array, start * PIXELS);
      }
      const raw = readSlice(file, labels, [[0, n]]);
      const labelArray = Float32Array.from(raw as ArrayLike<number>);
      const faces: number[] = [];
      const nonFaces: number[] = [];
      labelArray.forEach((v, i) => {
        if (v === 1) faces.push(i);
        else if (v === 0) nonFaces.push(i);
        else throw new BadFileError(file, `label ${i} of ${lname} is ${v}; labels must be 1 (face) or 0 (not a face)`);
      });
      const attributes: Record<string, unknown> = {};
      for (const [k, a] of Object.entries(f.attrs)) attributes[k] = a.value;
      return new FaceDataset(file, pixels, labelArray, Int32Array.from(faces), Int32Array.from(nonFaces), attributes);
    } finally {
      f.close();
    }
  }

  /** Whether the file holds the datasets `<name>_images` and `<name>_labels` (e.g. `validation`). */
  static async hasSet(file: string, name: string): Promise<boolean> {
    const f = await openHdf5(file);
    try {
      const keys = f.keys();
      return keys.includes(`${name}_images`) && keys.includes(`${name}_labels`);
    } finally {
      f.close();
    }
  }

  get size(): number {
    return this.labels.length;
  }

  get faceCount(): number {
    return this.faceIndices.length;
  }

  get nonFaceCount(): number {
    return this.nonFaceIndices.length;
  }

  /** Steps in one epoch at batch size `batchSize` (the course: N // batch). */
  stepsPerEpoch(batchSize: number): number {
    return Math.max(1, Math.floor(this.size / batchSize));
  }

  /** Images at `indices` (any order), BGR → RGB, /255, as a flat [k, 64, 64, 3] float array. */
  rgbFloats(indices: ArrayLike<number>): Float32Array {
    const out = new Float32Array(indices.length * PIXELS);
    for (let k = 0; k < indices.length; k++) {
      const src = indices[k] * PIXELS;
      const dst = k * PIXELS;
      for (let p = 0; p < PIXELS; p += 3) {
        // The file stores B, G, R; the models see R, G, B.
        out[dst + p] = this.images[src + p + 2] / 255;
        out[dst + p + 1] = this.images[src + p + 1] / 255;
        out[dst + p + 2] = this.images[src + p] / 255;
      }
    }
    return out;
  }

  /**
   * The course's `get_batch(n, p_pos, p_neg)`: n/2 faces and n/2 non-faces without replacement
   * (n faces with `onlyFaces`), indices sorted, RGB in [0, 1].
   * @throws BadShapeError / BadProbabilitiesError for a probability vector that cannot be used.
   */
  getBatch(n: number, rng: Rng, options: BatchOptions = {}): FaceBatch & { indices: Int32Array } {
    const half = options.onlyFaces ? n : Math.floor(n / 2);
    if (options.pPos) checkProbabilities(options.pPos, this.faceCount, half, 'p_pos');
    const pos = sampleWithoutReplacement(this.faceCount, half, rng, options.pPos);
    const chosen: number[] = Array.from(pos, (i) => this.faceIndices[i]);
    if (!options.onlyFaces) {
      const negCount = n - half;
      if (options.pNeg) checkProbabilities(options.pNeg, this.nonFaceCount, negCount, 'p_neg');
      const neg = sampleWithoutReplacement(this.nonFaceCount, negCount, rng, options.pNeg);
      for (const i of neg) chosen.push(this.nonFaceIndices[i]);
    }
    const indices = Int32Array.from(chosen).sort();
    const labels = Float32Array.from(indices, (i) => this.labels[i]);
    return {
      indices,
      x: tf.tensor4d(this.rgbFloats(indices), [indices.length, FACE_SIZE, FACE_SIZE, 3]),
      y: tf.tensor2d(labels, [indices.length, 1]),
    };
  }

  /** Faces `start..start+count` (in faceIndices order) as an RGB [0, 1] tensor: for latent means. */
  faceBatch(start: number, count: number): tf.Tensor4D {
    const idx = this.faceIndices.subarray(start, Math.min(this.faceCount, start + count));
    return tf.tensor4d(this.rgbFloats(idx), [idx.length, FACE_SIZE, FACE_SIZE, 3]);
  }
}
