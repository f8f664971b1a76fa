import { BadFlagError, tf } from '@introdl/core';
import type { ChatTemplate } from '../chat/templates.js';
import type { StylePair } from '../data/readers.js';
import type { LlamaModel } from '../model/llama.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import { buildSequence, padBatch, type SftSequence, tokenNll } from './sft.js';

/**
 * What the fine-tuning learns from each styled example:
 * - `answers`: the course's objective — the question in the chat template, the loss on the answer;
 * - `style-text-only`: causal language modelling on the styled text alone (each text after a BOS,
 *   packed into rows as in pre-training, every token trained, no question, no template) — the model
 *   learns to write in the style, not to answer;
 * - `answers+style-text`: both: each example as an answer, and the styled texts as packed rows.
 */
export const SFT_OBJECTIVES = ['answers', 'style-text-only', 'answers+style-text'] as const;
export type SftObjective = (typeof SFT_OBJECTIVES)[number];

/** Checks an `--objective` value. */
export function parseObjective(value: string): SftObjective {
  if (!(SFT_OBJECTIVES as readonly string[]).includes(value))
    throw new BadFlagError(`--objective must be one of ${SFT_OBJECTIVES.join(', ')}, got "${value}"`);
  return value as SftObjective;
}

/**
 * A styled text as a training sequence of its own: BOS and its tokens, as the competition metric
 * tokenizes its passage, every token trained; cut to `contextLength` tokens.
 */
export function styleTextSequence(tokenizer: TextTokenizer, text: string, contextLength = 512): SftSequence {
  let ids = tokenizer.encode(text, { addSpecialTokens: true });
  if (tokenizer.bosId !== undefined && ids[0] !== tokenizer.bosId) ids = [tokenizer.bosId, ...ids];
  ids = ids.slice(0, contextLength);
  return { ids, mask: ids.map(() => 1) };
}

/** The training sequences of an objective over `pairs`, built on demand: how many, and the i-th. */
export interface SequenceSource {
  size: number;
  build(index: number): SftSequence;
}

/**
 * Styled texts as one stream, the way the base model was pre-trained (llama2.c's TinyStories
 * stream: each text opens with BOS, texts follow one another), cut into rows of at most
 * `contextLength` tokens at text boundaries; every token is trained, and attention runs across the
 * texts of a row, so the model also learns to write the style at length, not only in one-line
 * answers. A text longer than a row is cut to one row.
 */
export function styleTextRows(
  tokenizer: TextTokenizer,
  texts: readonly string[],
  contextLength: number,
): SftSequence[] {
  const rows: SftSequence[] = [];
  let ids: number[] = [];
  for (const text of texts) {
    const next = styleTextSequence(tokenizer, text, contextLength).ids;
    if (ids.length + next.length > contextLength && ids.length > 0) {
      rows.push({ ids, mask: ids.map(() => 1) });
      ids = [];
    }
    ids = ids.concat(next);
  }
  if (ids.length > 1) rows.push({ ids, mask: ids.map(() => 1) });
  return rows;
}

/**
 * The sequences `objective` trains on for `pairs`: the templated answers one per sequence, the
 * style text packed into rows of `contextLength` tokens ({@link styleTextRows}).
 */
export function objectiveSequences(
  objective: SftObjective,
  tokenizer: TextTokenizer,
  template: ChatTemplate,
  pairs: readonly StylePair[],
  contextLength: number,
): SequenceSource {
  const n = pairs.length;
  const answer = (i: number) => buildSequence(tokenizer, template, pairs[i], contextLength);
  if (objective === 'answers') return { size: n, build: answer };
  const rows = styleTextRows(
    tokenizer,
    pairs.map((p) => p.answer),
    contextLength,
  );
  if (objective === 'style-text-only') return { size: rows.length, build: (i) => rows[i] };
  return { size: n + rows.length, build: (i) => (i < n ? answer(i) : rows[i - n]) };
}

/**
 * Logit values one validation batch may hold (16M floats = 64 MB). The logits of a batch are
 * [tokens, vocabulary] and the cross-entropy makes a few copies of them: with a 49k vocabulary,
 * eight 150-token sequences are 236 MB a copy, which grew a 135M model's process by 1.6 GB and
 * wasm never gives memory back. Batching by this budget bounds it whatever the vocabulary.
 */
export const VALIDATION_LOGITS_BUDGET = 16 * 2 ** 20;

/**
 * Mean NLL per trained token over sequences (no dropout, no gradients): the validation loss. Each
 * token counts once, whatever batch it falls in; sequences are batched by length to waste little
 * on padding, at most `batchSize` of them and no more than {@link VALIDATION_LOGITS_BUDGET} logits
 * a batch (a single longer sequence still goes alone).
 */
export function validationLoss(
  model: LlamaModel,
  sequences: readonly SftSequence[],
  padId: number,
  batchSize = 8,
): number {
  const sorted = [...sequences].filter((s) => s.ids.length >= 2).sort((a, b) => a.ids.length - b.ids.length);
  let sum = 0;
  let count = 0;
  for (let start = 0; start < sorted.length; ) {
    const size = validationBatchSize(sorted, start, batchSize, model.config.vocabSize);
    const batch = padBatch(sorted.slice(start, start + size), padId);
    start += size;
    const [total, tokens] = tf.tidy(() => {
      const [B, T] = batch.ids.shape;
      const x = batch.ids.slice([0, 0], [B, T - 1]);
      const y = batch.ids.slice([0, 1], [B, T - 1]).reshape([B * (T - 1)]) as tf.Tensor1D;
      const m = batch.mask.slice([0, 1], [B, T - 1]).reshape([B * (T - 1)]);
      const logits = model.forward(x).reshape([B * (T - 1), model.config.vocabSize]) as tf.Tensor2D;
      return [tf.sum(tf.mul(tokenNll(logits, y), m)).dataSync()[0], tf.sum(m).dataSync()[0]];
    });
    tf.dispose(batch);
    sum += total;
    count += tokens;
  }
  return count > 0 ? sum / count : Number.NaN;
}

/**
 * How many sequences from `start` (sorted by length, so the last one sets the padded length) fit
 * one batch: at most `max`, within the logits budget, and at least one.
 */
export function validationBatchSize(
  sorted: readonly SftSequence[],
  start: number,
  max: number,
  vocabSize: number,
): number {
  let size = 1;
  while (
    size < max &&
    start + size < sorted.length &&
    (size + 1) * (sorted[start + size].ids.length - 1) * vocabSize <= VALIDATION_LOGITS_BUDGET
  ) {
    size++;
  }
  return size;
}
