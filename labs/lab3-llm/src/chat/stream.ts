import { generationSteps } from '../model/generate.js';
import { encodeText, StreamingDecoder } from '../tokenizer/tokenizer.js';
import type { ChatOptions, LanguageModel } from './chat.js';
import { stopTokenIds } from './templates.js';

/** Options of {@link chatPieces}: those of `chat()`, and a signal that stops generating. */
export interface ChatStreamOptions extends Omit<ChatOptions, 'onText' | 'onlyAnswer'> {
  signal?: AbortSignal;
}

/** Lets pending I/O (a server's writes of the pieces so far) run before the next token. */
const turnOfTheEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The answer to `question` as an async stream of text pieces, for servers: the same prompt,
 * sampling and stopping as {@link chat}, but the caller receives each piece as soon as its token is
 * chosen, and the event loop turns between tokens so the pieces really leave one by one. Stops at
 * the end of the turn, after `maxNewTokens`, or when `signal` aborts.
 */
export async function* chatPieces(
  { model, tokenizer }: LanguageModel,
  question: string,
  options: ChatStreamOptions,
): AsyncGenerator<string> {
  const { template, signal } = options;
  const { ids } = encodeText(tokenizer, template.withoutAnswer(question));
  const decoder = new StreamingDecoder(tokenizer);
  const pending: string[] = [];
  let streamed = '';
  let ended = false;
  const steps = generationSteps(model, ids, {
    maxNewTokens: options.maxNewTokens ?? 32,
    temperature: options.temperature ?? 0.7,
    topK: options.topK,
    topP: options.topP,
    seed: options.seed,
    stopTokens: stopTokenIds(template, tokenizer, model.config.eosTokenIds),
    onToken: (id) => {
      let piece = decoder.push(id);
      // The plain template's answer ends at a newline: send the text before it, then stop.
      const stop = template.stopText;
      if (stop && (streamed + piece).includes(stop)) {
        piece = (streamed + piece).slice(streamed.length, (streamed + piece).indexOf(stop));
        ended = true;
      }
      streamed += piece;
      if (piece) pending.push(piece);
      return !ended && !signal?.aborted;
    },
  });
  let it = steps.next();
  try {
    while (!it.done) {
      if (signal?.aborted) return;
      it = steps.next(await it.value.data());
      while (pending.length) yield pending.shift() as string;
      await turnOfTheEventLoop();
    }
    if (!ended) {
      const rest = decoder.flush();
      if (rest && !signal?.aborted) yield rest;
    }
  } finally {
    if (!it.done) {
      it.value.dispose();
      steps.return(undefined as never);
    }
  }
}
