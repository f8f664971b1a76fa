import { type CommandSpec, RunFolder, writeFileAtomicSync } from '@introdl/core';
import { chooseTemplate, stopTokenIds } from '../chat/templates.js';
import { generateWith } from '../export/onnx-language-model.js';
import { loadForRuntime, RUNTIME_OPTION } from '../export/runtime-option.js';
import { LAB } from '../lab.js';
import { encodeText, StreamingDecoder } from '../tokenizer/tokenizer.js';
import { boundedNumber, MODEL_OPTIONS, positiveInt, requiredString, TEMPLATE_OPTION } from './shared.js';

/** `introdl lab3 generate`: continue a prompt, streaming the continuation to stdout. */
export const generateCommand: CommandSpec = {
  name: 'generate',
  description: 'continue a prompt with a llama2.c or Hugging Face model (temperature 0 is greedy)',
  usesBackend: true,
  options: [
    ...MODEL_OPTIONS,
    RUNTIME_OPTION,
    { flags: '--prompt <text>', description: 'the text to continue ("" starts from BOS alone)', default: '' },
    { flags: '--max-tokens <n>', description: 'most new tokens', default: '64' },
    { flags: '--temperature <t>', description: '0 = greedy; else sample softmax(logits / t)', default: '0.8' },
    { flags: '--top-k <k>', description: 'sample among the k most likely tokens (0 = all)', default: '0' },
    {
      flags: '--top-p <p>',
      description: 'nucleus sampling: smallest set with probability ≥ p (1 = off)',
      default: '1',
    },
    { flags: '--chat', description: 'wrap the prompt in the chat template as a question' },
    TEMPLATE_OPTION,
  ],
  async run({ options, context }) {
    const prompt = options.prompt === undefined ? '' : String(options.prompt);
    const maxNewTokens = positiveInt(options, 'maxTokens', 64, 0);
    const temperature = boundedNumber(options, 'temperature', 0.8, 0, 100);
    const topK = positiveInt(options, 'topK', 0, 0);
    const topP = boundedNumber(options, 'topP', 1, 0, 1);
    requiredString(options, 'model');
    const lm = await loadForRuntime(options, context);
    const { model, tokenizer } = lm;
    const template = chooseTemplate(String(options.template ?? 'auto'), tokenizer);
    const text = options.chat ? template.withoutAnswer(prompt) : prompt;
    let ids = prompt === '' && !options.chat ? [] : encodeText(tokenizer, text).ids;
    if (ids.length === 0 && tokenizer.bosId !== undefined) ids = [tokenizer.bosId];
    const run = RunFolder.create({
      lab: LAB,
      command: 'introdl lab3 generate',
      config: {
        model: lm.info.source,
        adapter: lm.info.adapter,
        prompt,
        maxNewTokens,
        temperature,
        topK,
        topP,
        chat: Boolean(options.chat),
      },
      seed: context.seed,
      backend: context.backend?.name,
      device: context.backend?.detail,
      out: context.out,
    });
    const stream = new StreamingDecoder(tokenizer);
    const stopText = options.chat ? template.stopText : undefined;
    let shown = '';
    let ended = false;
    // Raw continuation stops where the model's config says (run.c: at BOS); chat at the end of the turn.
    const stops = options.chat
      ? stopTokenIds(template, tokenizer, model.config.eosTokenIds)
      : [...new Set([...model.config.eosTokenIds, ...(tokenizer.kind === 'huggingface' ? tokenizer.eosIds : [])])];
    const result = await generateWith(model, ids, {
      maxNewTokens,
      temperature,
      topK,
      topP,
      seed: context.seed,
      stopTokens: stops,
      onToken: (id) => {
        let piece = stream.push(id);
        // A chat answer also ends at the template's stop text (the plain template's newline).
        const at = stopText ? (shown + piece).indexOf(stopText) : -1;
        if (at >= 0) piece = (shown + piece).slice(shown.length, at);
        process.stdout.write(piece);
        shown += piece;
        ended = at >= 0;
        return !ended;
      },
    });
    process.stdout.write(`${ended ? '' : stream.flush()}\n`);
    let continuation = tokenizer.decode(result.tokens, { skipSpecialTokens: true });
    if (stopText && continuation.includes(stopText))
      continuation = continuation.slice(0, continuation.indexOf(stopText));
    const tokensPerSecond = result.generateSeconds > 0 ? (result.tokens.length - 1) / result.generateSeconds : 0;
    context.log(
      `${result.tokens.length} tokens (${result.stoppedBy}); prompt ${ids.length} tokens in ${result.promptSeconds.toFixed(2)} s, ` +
        `${tokensPerSecond.toFixed(1)} tokens/s after the first`,
    );
    writeFileAtomicSync(
      run.output('generation.json'),
      `${JSON.stringify({ prompt, promptIds: ids, continuation, ...result, tokensPerSecond }, null, 2)}\n`,
    );
    run.finish('completed', { tokens: result.tokens.length, tokensPerSecond });
    lm.model.dispose();
    return 0;
  },
};
