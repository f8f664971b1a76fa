import { tf } from '@introdl/core';
import { generate } from '../model/generate.js';
import type { LlamaModel } from '../model/llama.js';
import { encodeText, StreamingDecoder, type TextTokenizer } from '../tokenizer/tokenizer.js';
import { type ChatTemplate, stopTokenIds } from './templates.js';

/** A model with its tokenizer. */
export interface LanguageModel {
  model: LlamaModel;
  tokenizer: TextTokenizer;
}

/** The most likely next token after a prompt, with its probability. */
export interface NextToken {
  id: number;
  text: string;
  probability: number;
}

/**
 * Part 1: one step of next-token prediction — the course's "Paris" cell. The prompt is tokenized,
 * run through the model once, and the last position's distribution gives the next token.
 */
export function predictNextToken({ model, tokenizer }: LanguageModel, prompt: string): NextToken {
  // @exercise lab3.1.1 "One-step next-token prediction"
  // Hint: encode the prompt, run the model on [1, T] ids, softmax the last position's logits, take the argmax and decode it.
  const { ids } = encodeText(tokenizer, prompt);
  const probs = tf.tidy(() => {
    const logits = model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'), { lastPositionOnly: true });
    return tf.softmax(logits.reshape([-1])).dataSync();
  });
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  return { id: best, text: tokenizer.decode([best]), probability: probs[best] };
  // @end
}

/** Options of {@link chat}. */
export interface ChatOptions {
  template: ChatTemplate;
  maxNewTokens?: number;
  /** 0 is greedy. The course uses 0.7. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Return only the answer, not the prompt. */
  onlyAnswer?: boolean;
  seed?: number;
  /** Streaming: called with each new piece of answer text as it is generated. */
  onText?: (piece: string) => void;
}

/**
 * Part 1: ask the model a question through the chat template and sample an answer — the course's
 * `chat(question, max_new_tokens=32, temperature=0.7, only_answer=False)`.
 */
export async function chat(
  { model, tokenizer }: LanguageModel,
  question: string,
  options: ChatOptions,
): Promise<string> {
  // @exercise lab3.1.2 "chat(): template, tokenize, generate, decode"
  // Hint: format the template without the answer, encode it, generate (sampling at the temperature, stopping at end of turn), then decode the new tokens, or prompt + new tokens unless onlyAnswer.
  const { template } = options;
  const { ids } = encodeText(tokenizer, template.withoutAnswer(question));
  const stream = new StreamingDecoder(tokenizer);
  let streamed = '';
  const result = await generate(model, ids, {
    maxNewTokens: options.maxNewTokens ?? 32,
    temperature: options.temperature ?? 0.7,
    topK: options.topK,
    topP: options.topP,
    seed: options.seed,
    stopTokens: stopTokenIds(template, tokenizer, model.config.eosTokenIds),
    onToken: (id) => {
      const before = streamed.length;
      streamed += stream.push(id);
      // Stream only what comes before the template's stop text (the plain template's newline).
      const stopAt = template.stopText ? streamed.indexOf(template.stopText) : -1;
      const piece = streamed.slice(before, stopAt >= 0 ? Math.max(before, stopAt) : undefined);
      if (piece) options.onText?.(piece);
      return stopAt < 0;
    },
  });
  const rest = template.stopText && streamed.includes(template.stopText) ? '' : stream.flush();
  if (rest) options.onText?.(rest);
  let answer = tokenizer.decode(result.tokens, { skipSpecialTokens: true });
  if (template.stopText && answer.includes(template.stopText))
    answer = answer.slice(0, answer.indexOf(template.stopText));
  return options.onlyAnswer ? answer : tokenizer.decode(ids, { skipSpecialTokens: true }) + answer;
  // @end
}
