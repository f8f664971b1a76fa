import { maskedMean, Rng, tf } from '@introdl/core';
import { answerStart, type ChatTemplate } from '../chat/templates.js';
import type { StylePair } from '../data/readers.js';
import type { ForwardOptions, LlamaModel } from '../model/llama.js';
import { encodeText, type TextTokenizer } from '../tokenizer/tokenizer.js';
import { crossEntropyRows } from './cross-entropy.js';

/** One training sequence: token ids and which of them the loss covers. */
export interface SftSequence {
  ids: number[];
  /** 1 for tokens of the answer (and its end-of-turn), 0 for the prompt. */
  mask: number[];
}

/**
 * The answer mask from character offsets, as the course computes it:
 * `mask = offset_start >= text.index(answer)` — the answer's tokens and the closing end-of-turn
 * tokens are trained, the prompt's are not.
 */
export function answerMask(starts: readonly number[], answerStartChar: number): number[] {
  // @exercise lab3.1.3 "The answer mask"
  // Hint: a token is trained (1) when its first character is at or after the answer's start, otherwise 0.
  return starts.map((start) => (start >= answerStartChar ? 1 : 0));
  // @end
}

/** Template with the answer → ids and answer mask, truncated to `contextLength` tokens. */
export function buildSequence(
  tokenizer: TextTokenizer,
  template: ChatTemplate,
  pair: StylePair,
  contextLength = 512,
): SftSequence {
  const text = template.withAnswer(pair.question, pair.answer);
  const { ids, starts } = encodeText(tokenizer, text);
  const mask = answerMask(starts, answerStart(template, pair.question, pair.answer));
  return { ids: ids.slice(0, contextLength), mask: mask.slice(0, contextLength) };
}

/** A batch: right-padded ids [B, T] (int32) and the answer mask [B, T] (0 on padding). */
export interface SftBatch extends tf.NamedTensorMap {
  ids: tf.Tensor2D;
  mask: tf.Tensor2D;
}

/** Pads sequences on the right to the longest one. */
export function padBatch(sequences: readonly SftSequence[], padId: number): SftBatch {
  const T = Math.max(2, ...sequences.map((s) => s.ids.length));
  const ids = new Int32Array(sequences.length * T).fill(padId);
  const mask = new Float32Array(sequences.length * T);
  sequences.forEach((s, b) => {
    ids.set(s.ids, b * T);
    mask.set(s.mask, b * T);
  });
  return { ids: tf.tensor2d(ids, [sequences.length, T], 'int32'), mask: tf.tensor2d(mask, [sequences.length, T]) };
}

/**
 * Per-position negative log-likelihood −log softmax(logits)[target] for logits [N, V] and targets
 * [N], with a hand-written gradient (softmax − one-hot; see cross-entropy.ts): autodiff of the
 * textbook formula builds several [N, V] tensors, and tfjs differentiates a gather with
 * UnsortedSegmentSum, which its cpu backend runs in O(N²·V).
 */
export function tokenNll(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  return crossEntropyRows(logits, targets);
}

/**
 * The training step's loss (the course's forward_and_compute_loss): predict token t+1 from tokens
 * ≤ t and average the cross-entropy over the answer positions only.
 */
export function answerLoss(
  model: LlamaModel,
  ids: tf.Tensor2D,
  mask: tf.Tensor2D,
  options: ForwardOptions = {},
): tf.Scalar {
  // @exercise lab3.1.4 "The training step: loss on the answer tokens"
  // Hint: inputs are ids[:, :-1], targets ids[:, 1:], weights mask[:, 1:]; run the model, take the per-token cross-entropy, and average it where the mask is 1.
  const [B, T] = ids.shape;
  const x = ids.slice([0, 0], [B, T - 1]);
  const y = ids.slice([0, 1], [B, T - 1]);
  const m = mask.slice([0, 1], [B, T - 1]);
  const logits = model.forward(x, options);
  const nll = tokenNll(logits.reshape([B * (T - 1), model.config.vocabSize]), y.reshape([B * (T - 1)]));
  return maskedMean(nll, m.reshape([B * (T - 1)]));
  // @end
}

/**
 * Shuffled batches of training sequences, as a pure function of the step: epoch e visits the
 * examples in a permutation seeded by (seed, e). Resuming at step s therefore draws the same batches
 * as an uninterrupted run. Sequences are built on first use and kept.
 */
export class SftBatches {
  private readonly built = new Map<number, SftSequence>();
  private epoch = -1;
  private order: Int32Array = new Int32Array();

  constructor(
    private readonly build: (index: number) => SftSequence,
    readonly size: number,
    readonly batchSize: number,
    readonly padId: number,
    readonly seed: number,
  ) {
    if (size === 0) throw new Error('no training examples');
  }

  /** The sequence of example `i`. */
  sequence(i: number): SftSequence {
    let s = this.built.get(i);
    if (!s) {
      s = this.build(i);
      this.built.set(i, s);
    }
    return s;
  }

  /** Example indices of step `step` (1-based). */
  indices(step: number): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.batchSize; j++) {
      const g = (step - 1) * this.batchSize + j;
      const epoch = Math.floor(g / this.size);
      if (epoch !== this.epoch) {
        this.order = new Rng(this.seed * 1_000_003 + epoch).permutation(this.size);
        this.epoch = epoch;
      }
      out.push(this.order[g % this.size]);
    }
    return out;
  }

  batch(step: number): SftBatch {
    return padBatch(
      this.indices(step).map((i) => this.sequence(i)),
      this.padId,
    );
  }
}
