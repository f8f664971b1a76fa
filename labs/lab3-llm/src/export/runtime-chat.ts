import { type ChatOptions, chat } from '../chat/chat.js';
import { stopTokenIds } from '../chat/templates.js';
import { encodeText, StreamingDecoder, type TextTokenizer } from '../tokenizer/tokenizer.js';
import { generateWith, OnnxCausalLM, type RuntimeModel } from './onnx-language-model.js';

/**
 * {@link chat} on either runtime. The tfjs model goes through the lab's own `chat` (an exercise);
 * an ONNX model goes through the same steps — template, encode, generate with the end-of-turn stops,
 * stream, cut at the template's stop text — with generation on ONNX Runtime.
 */
export async function chatWithRuntime(
  lm: { model: RuntimeModel; tokenizer: TextTokenizer },
  question: string,
  options: ChatOptions,
): Promise<string> {
  const { model, tokenizer } = lm;
  if (!(model instanceof OnnxCausalLM)) return chat({ model, tokenizer }, question, options);
  const { template } = options;
  const { ids } = encodeText(tokenizer, template.withoutAnswer(question));
  const stream = new StreamingDecoder(tokenizer);
  let streamed = '';
  const result = await generateWith(model, ids, {
    maxNewTokens: options.maxNewTokens ?? 32,
    temperature: options.temperature ?? 0.7,
    topK: options.topK,
    topP: options.topP,
    seed: options.seed,
    stopTokens: stopTokenIds(template, tokenizer, model.config.eosTokenIds),
    onToken: (id) => {
      const piece = stream.push(id);
      streamed += piece;
      if (piece) options.onText?.(piece);
      return !(template.stopText && streamed.includes(template.stopText));
    },
  });
  const rest = stream.flush();
  if (rest) options.onText?.(rest);
  let answer = tokenizer.decode(result.tokens, { skipSpecialTokens: true });
  if (template.stopText && answer.includes(template.stopText))
    answer = answer.slice(0, answer.indexOf(template.stopText));
  return options.onlyAnswer ? answer : tokenizer.decode(ids, { skipSpecialTokens: true }) + answer;
}
