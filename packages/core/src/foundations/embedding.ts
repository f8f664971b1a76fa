import * as tf from '@tensorflow/tfjs';
import { BadShapeError, IntrodlError } from '../errors.js';
import { Rng } from '../rng.js';
import { type ApplyOptions, Layer } from './layer.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /** Vocabulary size: ids run from 0 to inputDim − 1. */
  inputDim: number;
  /** Length of each id's vector. */
  outputDim: number;
  /** Seeds the uniform(−0.05, 0.05) table, Keras' default for embeddings. */
  rng?: Rng;
  name?: string;
}

/** Keras' `RandomUniform(−0.05, 0.05)`, drawn from our seeded Rng so every backend gets the same table. */
function uniformTable(shape: [number, number], rng: Rng, limit = 0.05): tf.Tensor2D {
  const values = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < values.length; i++) values[i] = (rng.next() * 2 - 1) * limit;
  return tf.tensor2d(values, shape);
}

/**
 * A lookup table from integer ids to learned vectors, as Keras' `Embedding`: `apply(ids [B, T])`
 * returns `[B, T, outputDim]`, row `ids[b, t]` of the `embeddings` variable. Equivalent to a one-hot
 * vector times a matrix, without building the one-hot vector. Its gradient is a segment sum, which
 * the wasm backend gets from core's kernel fixes.
 */
export class Embedding extends Layer {
  readonly embeddings: tf.Variable;
  readonly inputDim: number;
  readonly outputDim: number;

  constructor(options: EmbeddingOptions) {
    super(options.name ?? 'embedding');
    for (const key of ['inputDim', 'outputDim'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v < 1)
        throw new IntrodlError(`Embedding ${key} must be a positive integer, got ${v}`);
    }
    this.inputDim = options.inputDim;
    this.outputDim = options.outputDim;
    this.embeddings = tf.variable(uniformTable([this.inputDim, this.outputDim], options.rng ?? new Rng(0)), true);
  }

  /**
   * Looks up each id. Ids are cast to int32 if they are not already. On the cpu and wasm backends,
   * where reading them is free, an id outside [0, inputDim) is a clear error rather than a silent
   * row of garbage (tfjs' wasm gather does not check).
   */
  apply(ids: tf.Tensor, _options?: ApplyOptions): tf.Tensor {
    if (ids.rank < 1) throw new BadShapeError(`${this.name} ids`, '[batch, …]', ids.shape);
    if (tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm') this.checkIds(ids);
    return tf.tidy(() => tf.gather(this.embeddings, ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32')));
  }

  private checkIds(ids: tf.Tensor): void {
    const values = ids.dataSync();
    for (let i = 0; i < values.length; i++) {
      const id = values[i];
      if (!(id >= 0 && id < this.inputDim) || !Number.isInteger(id)) {
        throw new IntrodlError(
          `${this.name}: id ${id} at position ${i} is outside the vocabulary [0, ${this.inputDim - 1}]`,
        );
      }
    }
  }

  override variables(): Map<string, tf.Variable> {
    return new Map([['embeddings', this.embeddings]]);
  }

  outputShape(inputShape: (number | null)[]): (number | null)[] {
    return [...inputShape, this.outputDim];
  }
}
