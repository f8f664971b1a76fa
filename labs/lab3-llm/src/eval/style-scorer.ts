import { readFileSync } from 'node:fs';
import {
  Adam,
  BadFileError,
  binaryCrossEntropyFromLogits,
  Dense,
  MiniBatches,
  MissingFileError,
  Rng,
  Trainer,
  type tf,
  writeFileAtomicSync,
} from '@introdl/core';

/**
 * An offline style scorer that needs no API: logistic regression on hashed character n-grams,
 * trained with @introdl/core (Dense + binary cross-entropy + Adam through the Trainer) to tell
 * styled text (Yoda) from plain text. Its output P(styled) ∈ [0, 1] plays the judge's role; its
 * held-out accuracy says how far to trust it.
 */

/** Feature settings. */
export interface NgramOptions {
  /** Hash buckets (feature dimension). */
  buckets?: number;
  minN?: number;
  maxN?: number;
}

const DEFAULTS = { buckets: 4096, minN: 2, maxN: 5 };

/** FNV-1a hash of a string to a bucket. */
function bucket(s: string, buckets: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % buckets;
}

/** log(1 + count) of each hashed n-gram of the lower-cased text (with edge markers), L2-normalised. */
export function ngramFeatures(text: string, options: NgramOptions = {}): Float32Array {
  const { buckets, minN, maxN } = { ...DEFAULTS, ...options };
  const out = new Float32Array(buckets);
  const s = `^${text.toLowerCase().replace(/\s+/g, ' ').trim()}$`;
  for (let n = minN; n <= maxN; n++)
    for (let i = 0; i + n <= s.length; i++) out[bucket(s.slice(i, i + n), buckets)] += 1;
  let norm = 0;
  for (let i = 0; i < buckets; i++) {
    out[i] = Math.log1p(out[i]);
    norm += out[i] * out[i];
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < buckets; i++) out[i] /= norm;
  return out;
}

/** What training the scorer reports. */
export interface StyleScorerReport {
  trainExamples: number;
  heldOutExamples: number;
  trainAccuracy: number;
  heldOutAccuracy: number;
}

/** A trained style scorer. */
export class StyleScorer {
  private constructor(
    readonly options: Required<NgramOptions>,
    readonly weights: Float32Array,
    readonly bias: number,
    readonly report: StyleScorerReport,
  ) {}

  /** P(styled) of each text; an empty text has no style and scores 0. */
  score(texts: readonly string[]): number[] {
    return texts.map((t) => {
      if (t.trim() === '') return 0;
      const f = ngramFeatures(t, this.options);
      let z = this.bias;
      for (let i = 0; i < f.length; i++) z += f[i] * this.weights[i];
      return 1 / (1 + Math.exp(-z));
    });
  }

  /**
   * Trains on styled and plain texts, holding out a fraction for the accuracy.
   * @param steps Adam steps on mini-batches of 32.
   */
  static async train(
    styled: readonly string[],
    plain: readonly string[],
    options: NgramOptions & { seed?: number; steps?: number; heldOut?: number; learningRate?: number } = {},
  ): Promise<StyleScorer> {
    const o = { ...DEFAULTS, ...options };
    const seed = options.seed ?? 0;
    const texts = [...styled, ...plain];
    const labels = [...styled.map(() => 1), ...plain.map(() => 0)];
    if (styled.length < 2 || plain.length < 2)
      throw new Error('the style scorer needs at least 2 styled and 2 plain texts');
    const order = new Rng(seed).permutation(texts.length);
    const nHeld = Math.max(1, Math.round(texts.length * (options.heldOut ?? 0.2)));
    const heldIdx = order.subarray(0, nHeld);
    const trainIdx = order.subarray(nHeld);
    const matrix = (idx: Int32Array) => {
      const x = new Float32Array(idx.length * o.buckets);
      idx.forEach((k, i) => {
        x.set(ngramFeatures(texts[k], o), i * o.buckets);
      });
      return { x, y: Float32Array.from(idx, (k) => labels[k]) };
    };
    const train = matrix(trainIdx);
    const held = matrix(heldIdx);
    const dense = new Dense({ inputs: o.buckets, units: 1, rng: new Rng(seed) });
    const batches = new MiniBatches(train.x, train.y, [o.buckets], Math.min(32, trainIdx.length), seed);
    const trainer = new Trainer<{ x: tf.Tensor; y: tf.Tensor }>({
      model: dense,
      optimizer: new Adam(options.learningRate ?? 0.05),
      loss: (b) => binaryCrossEntropyFromLogits(b.y.reshape([-1, 1]), dense.weightedSum(b.x)) as tf.Scalar,
      data: (step) => batches.batch(step),
      steps: options.steps ?? 300,
      seed,
      progress: 'silent',
    });
    await trainer.fit();
    const weights = dense.kernel.dataSync().slice() as Float32Array;
    const bias = dense.bias?.dataSync()[0] ?? 0;
    dense.kernel.dispose();
    dense.bias?.dispose();
    const accuracy = (m: { x: Float32Array; y: Float32Array }) => {
      let right = 0;
      for (let i = 0; i < m.y.length; i++) {
        let z = bias;
        for (let j = 0; j < o.buckets; j++) z += m.x[i * o.buckets + j] * weights[j];
        if (z > 0 === m.y[i] > 0.5) right++;
      }
      return right / m.y.length;
    };
    return new StyleScorer({ buckets: o.buckets, minN: o.minN, maxN: o.maxN }, weights, bias, {
      trainExamples: trainIdx.length,
      heldOutExamples: nHeld,
      trainAccuracy: accuracy(train),
      heldOutAccuracy: accuracy(held),
    });
  }

  /** Saves the scorer as JSON. */
  save(path: string): void {
    writeFileAtomicSync(
      path,
      JSON.stringify({
        format: 'introdl-style-scorer/1',
        ...this.options,
        bias: this.bias,
        report: this.report,
        weights: [...this.weights],
      }),
    );
  }

  /** Loads a scorer saved by {@link save}. */
  static load(path: string): StyleScorer {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(path);
      throw new BadFileError(path, 'is not a style scorer (not JSON)');
    }
    if (
      json.format !== 'introdl-style-scorer/1' ||
      !Array.isArray(json.weights) ||
      json.weights.length !== json.buckets
    ) {
      throw new BadFileError(path, 'is not a style scorer saved by introdl');
    }
    return new StyleScorer(
      { buckets: Number(json.buckets), minN: Number(json.minN), maxN: Number(json.maxN) },
      Float32Array.from(json.weights as number[]),
      Number(json.bias),
      json.report as StyleScorerReport,
    );
  }
}
