import { tf } from '@introdl/core';
import type { LlamaModel } from '../model/llama.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import { tokenNll } from '../train/sft.js';

/** Mean NLL per token of a text, and how many tokens were scored. */
export interface TextNll {
  /** Mean natural-log negative log-likelihood per predicted token. */
  loss: number;
  /** Tokens predicted (the ids after the first). */
  tokens: number;
  /** True when the text was longer than the model's context and was cut. */
  truncated: boolean;
}

/** Mean NLL of ids[1:] given their prefixes, in one causal pass (cut to the model's context). */
export function sequenceNll(model: LlamaModel, ids: readonly number[]): TextNll {
  const truncated = ids.length > model.config.maxPositions;
  const use = ids.slice(0, model.config.maxPositions);
  if (use.length < 2) return { loss: Number.NaN, tokens: 0, truncated };
  const loss = tf.tidy(() => {
    const x = tf.tensor2d(use.slice(0, -1), [1, use.length - 1], 'int32');
    const logits = model.forward(x).reshape([use.length - 1, model.config.vocabSize]) as tf.Tensor2D;
    return tf.mean(tokenNll(logits, tf.tensor1d(use.slice(1), 'int32'))).dataSync()[0];
  });
  return { loss, tokens: use.length - 1, truncated };
}

/**
 * The competition metric (the course's last, "do not modify" cell): the passage tokenized as raw
 * text — BOS and its tokens, no chat template — and the mean cross-entropy of each token given the
 * ones before it. Lower is better, although the course prints it as a "loglikelihood".
 */
export function yodaTestLoss(model: LlamaModel, tokenizer: TextTokenizer, text: string): TextNll {
  let ids = tokenizer.encode(text, { addSpecialTokens: true });
  if (tokenizer.bosId !== undefined && ids[0] !== tokenizer.bosId) ids = [tokenizer.bosId, ...ids];
  return sequenceNll(model, ids);
}

/** `Yoda test loglikelihood: 3.44`, as the course prints it. */
export function formatYodaMetric(loss: number): string {
  return `Yoda test loglikelihood: ${loss.toFixed(2)}`;
}
