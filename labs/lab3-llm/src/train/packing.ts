import { Rng, tf } from '@introdl/core';
import type { PackedRows } from '../model/llama.js';
import type { SftBatch, SftSequence } from './sft.js';

/**
 * Sequence packing: the course's examples are short (a Yoda sentence is 20–60 tokens), so a batch
 * of one padded example leaves a 512-token context mostly empty. Packing fills each row with as many
 * whole examples as fit in the context length; the model's attention stays within each example
 * (a block-diagonal causal mask) and positions restart at 0 for each (model/llama.ts, `packing`), so
 * a packed row computes exactly what the examples would alone. The loss covers the same answer
 * tokens: an example's first token is never trained (its mask is 0, it is the prompt), so no token
 * is predicted across a boundary.
 */

/** One packed row: the examples in it, in order. */
export type PackedRow = number[];

/**
 * Greedy packing in a given order: each example goes into the current row if it fits in
 * `contextLength` tokens, else it starts a new row (no example is split).
 */
export function packRows(
  order: ArrayLike<number>,
  lengthOf: (i: number) => number,
  contextLength: number,
): PackedRow[] {
  const rows: PackedRow[] = [];
  let row: PackedRow = [];
  let used = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const n = Math.min(lengthOf(i), contextLength);
    if (row.length > 0 && used + n > contextLength) {
      rows.push(row);
      row = [];
      used = 0;
    }
    row.push(i);
    used += n;
  }
  if (row.length) rows.push(row);
  return rows;
}

/** A packed batch: ids and mask [B, T] (right-padded), segments and positions for the model, real tokens. */
export interface PackedBatch {
  batch: SftBatch;
  packing: PackedRows;
  tokens: number;
}

/** Builds a [rows, T] packed batch from rows of sequences. Padding is a segment of its own (-1). */
export function packBatch(rows: readonly (readonly SftSequence[])[], padId: number): PackedBatch {
  const lengths = rows.map((r) => r.reduce((n, s) => n + s.ids.length, 0));
  const T = Math.max(2, ...lengths);
  const B = rows.length;
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Float32Array(B * T);
  const segments = new Int32Array(B * T).fill(-1);
  const positions = new Int32Array(B * T);
  rows.forEach((row, b) => {
    let at = b * T;
    row.forEach((s, k) => {
      ids.set(s.ids, at);
      mask.set(s.mask, at);
      for (let t = 0; t < s.ids.length; t++) {
        segments[at + t] = k;
        positions[at + t] = t;
      }
      at += s.ids.length;
    });
    // padding: positions 0.. of its own segment, never attended to by real tokens
    for (let t = at, p = 0; t < (b + 1) * T; t++, p++) positions[t] = p;
  });
  return {
    batch: { ids: tf.tensor2d(ids, [B, T], 'int32'), mask: tf.tensor2d(mask, [B, T]) },
    packing: { segments, positions },
    tokens: lengths.reduce((a, b) => a + b, 0),
  };
}

/**
 * Packed batches as a pure function of the step, like {@link SftBatches}: epoch e visits the
 * examples in a permutation seeded by (seed, e) and packs them greedily into rows; step s takes the
 * next `rowsPerStep` rows. Resuming at step s therefore draws the same rows as an uninterrupted run.
 */
export class PackedSftBatches {
  private readonly built = new Map<number, SftSequence>();
  /** Rows of every epoch computed so far, concatenated. */
  private readonly rows: PackedRow[] = [];
  private epochs = 0;

  constructor(
    private readonly build: (index: number) => SftSequence,
    readonly size: number,
    readonly rowsPerStep: number,
    readonly padId: number,
    readonly seed: number,
    readonly contextLength: number,
  ) {
    if (size === 0) throw new Error('no training examples');
  }

  sequence(i: number): SftSequence {
    let s = this.built.get(i);
    if (!s) {
      s = this.build(i);
      this.built.set(i, s);
    }
    return s;
  }

  /** Example indices in each row of step `step` (1-based). */
  stepRows(step: number): PackedRow[] {
    const end = step * this.rowsPerStep;
    while (this.rows.length < end) {
      // the same permutation SftBatches uses for this epoch
      const order = new Rng(this.seed * 1_000_003 + this.epochs).permutation(this.size);
      this.rows.push(...packRows(order, (i) => this.sequence(i).ids.length, this.contextLength));
      this.epochs++;
    }
    return this.rows.slice(end - this.rowsPerStep, end);
  }

  /** Examples per packed row so far (how much packing saves). */
  meanExamplesPerRow(): number {
    return this.rows.length ? this.rows.reduce((n, r) => n + r.length, 0) / this.rows.length : 0;
  }

  batch(step: number): PackedBatch {
    return packBatch(
      this.stepRows(step).map((row) => row.map((i) => this.sequence(i))),
      this.padId,
    );
  }
}
