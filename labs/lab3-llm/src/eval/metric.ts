import { tf } from '@introdl/core';
import { KVCache } from '../model/kv-cache.js';
import type { LlamaModel } from '../model/llama.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import { VALIDATION_LOGITS_BUDGET } from '../train/objective.js';
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

/**
 * Mean NLL of ids[1:] given their prefixes (cut to the model's context). One causal pass when the
 * logits fit {@link VALIDATION_LOGITS_BUDGET}; otherwise chunk by chunk through a KV cache, so a
 * long text under a large vocabulary (690 tokens × 49k is 136 MB a copy) never holds all its
 * logits at once. Both give the same numbers up to float rounding.
 */
export function sequenceNll(
  model: LlamaModel,
  ids: readonly number[],
  logitsBudget = VALIDATION_LOGITS_BUDGET,
): TextNll {
  const truncated = ids.length > model.config.maxPositions;
  const use = ids.slice(0, model.config.maxPositions);
  if (use.length < 2) return { loss: Number.NaN, tokens: 0, truncated };
  const vocab = model.config.vocabSize;
  const chunk = Math.max(1, Math.floor(logitsBudget / vocab));
  const predicted = use.length - 1;
  if (predicted <= chunk) return { loss: chunkNll(model, use, 0, predicted) / predicted, tokens: predicted, truncated };
  const cache = new KVCache(model.config.numLayers);
  try {
    let sum = 0;
    for (let start = 0; start < predicted; start += chunk) {
      sum += chunkNll(model, use, start, Math.min(chunk, predicted - start), cache);
    }
    return { loss: sum / predicted, tokens: predicted, truncated };
  } finally {
    cache.dispose();
  }
}

/** Summed NLL of ids[start+1 .. start+n] given everything before them (earlier ones in `cache`). */
function chunkNll(model: LlamaModel, ids: readonly number[], start: number, n: number, cache?: KVCache): number {
  return tf.tidy(() => {
    const x = tf.tensor2d(ids.slice(start, start + n), [1, n], 'int32');
    const logits = model.forward(x, { cache }).reshape([n, model.config.vocabSize]) as tf.Tensor2D;
    return tf.sum(tokenNll(logits, tf.tensor1d(ids.slice(start + 1, start + n + 1), 'int32'))).dataSync()[0];
  });
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
