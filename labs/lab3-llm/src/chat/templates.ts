import { BadFlagError } from '@introdl/core';
import { BUILTIN_CHAT_TEMPLATES_JINJA } from '../export/chat-template-jinja.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import { compileChatTemplate } from './jinja-compat.js';

/**
 * Chat templates: how a question (and, for training, its answer) becomes the text the model sees.
 * The course writes them as Python format strings; models ship a Jinja template in
 * tokenizer_config.json, rendered here with @huggingface/jinja.
 */
export interface ChatTemplate {
  readonly name: string;
  /** The prompt up to where the model starts answering. */
  withoutAnswer(question: string): string;
  /** The full training text: prompt, answer, end of turn. */
  withAnswer(question: string, answer: string): string;
  /** Token strings that end the model's turn (looked up in the vocabulary for stop ids). */
  readonly endOfTurn: readonly string[];
  /** Text that ends the answer when no token does (the plain template's newline). */
  readonly stopText?: string;
  /** A whole conversation (the model's own Jinja templates only). */
  render?(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string;
}

/** One message of a conversation, as chat templates take them. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A template from two format strings with `{question}` and `{answer}`, as the course writes them. */
export function formatTemplate(
  name: string,
  without: string,
  withAnswer: string,
  endOfTurn: string[],
  stopText?: string,
): ChatTemplate {
  return {
    name,
    stopText,
    withoutAnswer: (question) => without.replace('{question}', question),
    withAnswer: (question, answer) => withAnswer.replace('{question}', question).replace('{answer}', answer),
    endOfTurn,
  };
}

/** The 2025 course template (Gemma-2-2B-it); the tokenizer prepends <bos>. */
export const GEMMA_TEMPLATE = formatTemplate(
  'gemma',
  '<start_of_turn>user\n{question}<end_of_turn>\n<start_of_turn>model\n',
  '<start_of_turn>user\n{question}<end_of_turn>\n<start_of_turn>model\n{answer}<end_of_turn>\n',
  ['<end_of_turn>'],
);

/** The 2026 course template (LiquidAI LFM2-1.2B). */
export const LFM2_TEMPLATE = formatTemplate(
  'lfm2',
  '<|startoftext|><|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n',
  '<|startoftext|><|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>\n',
  ['<|im_end|>'],
);

/**
 * For base language models without a chat format (llama2.c's TinyStories models): a plain
 * question/answer layout whose answer ends with a newline. The answer starts on its own line so its
 * first word is not merged with a space of the prompt (a token starting in the prompt is not trained).
 */
export const PLAIN_TEMPLATE = formatTemplate(
  'plain',
  'Question: {question}\nAnswer:\n',
  'Question: {question}\nAnswer:\n{answer}\n',
  [],
  '\n',
);

/** Built-in templates by name. */
export const BUILTIN_TEMPLATES: Record<string, ChatTemplate> = {
  gemma: GEMMA_TEMPLATE,
  lfm2: LFM2_TEMPLATE,
  plain: PLAIN_TEMPLATE,
};

/**
 * A model's own Jinja chat template. The user turn alone with `add_generation_prompt` is the prompt;
 * the user and assistant turns without it is the training text.
 */
export function jinjaTemplate(
  source: string,
  specialTokens: Readonly<Record<string, string>>,
  name = 'model',
): ChatTemplate {
  const template = compileChatTemplate(source);
  // As transformers' apply_chat_template: the special tokens as variables, and Qwen3's switch set
  // to answer without a thinking block (the lab trains and prompts answers, not reasoning).
  const render = (messages: readonly ChatMessage[], addGenerationPrompt: boolean) =>
    template.render({
      messages: messages.map((m) => ({ ...m })),
      add_generation_prompt: addGenerationPrompt,
      enable_thinking: false,
      bos_token: '',
      eos_token: '',
      pad_token: '',
      unk_token: '',
      ...specialTokens,
    });
  // The tokens that end an assistant turn: what follows the answer in the rendered text.
  const marker = '\u0000ANSWER\u0000';
  const rendered = render(
    [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: marker },
    ],
    false,
  );
  const after = rendered.slice(rendered.indexOf(marker) + marker.length).trim();
  const endOfTurn = after ? [after] : [];
  return {
    name,
    render,
    withoutAnswer: (question) => render([{ role: 'user', content: question }], true),
    withAnswer: (question, answer) =>
      render(
        [
          { role: 'user', content: question },
          { role: 'assistant', content: answer },
        ],
        false,
      ),
    endOfTurn,
  };
}

/**
 * A model's Jinja template; when it is one of ours as `introdl lab3 export` writes it, the built-in
 * template itself, which also knows where an answer stops (the plain template's newline).
 */
function modelTemplate(source: string, tokenizer: TextTokenizer): ChatTemplate {
  for (const [name, jinja] of Object.entries(BUILTIN_CHAT_TEMPLATES_JINJA))
    if (jinja === source && BUILTIN_TEMPLATES[name]) return BUILTIN_TEMPLATES[name];
  return jinjaTemplate(source, tokenizer.specialTokens);
}

/**
 * Picks a template: a built-in name, `model` (the tokenizer's Jinja template), or `auto` (the
 * model's template when it has one, else `plain`).
 */
export function chooseTemplate(name: string, tokenizer: TextTokenizer): ChatTemplate {
  if (name === 'auto')
    return tokenizer.chatTemplate ? modelTemplate(tokenizer.chatTemplate, tokenizer) : PLAIN_TEMPLATE;
  if (name === 'model') {
    if (!tokenizer.chatTemplate) throw new BadFlagError(`--template model: ${tokenizer.source} has no chat_template`);
    return modelTemplate(tokenizer.chatTemplate, tokenizer);
  }
  const t = BUILTIN_TEMPLATES[name];
  if (!t)
    throw new BadFlagError(`unknown template "${name}": use auto, model, ${Object.keys(BUILTIN_TEMPLATES).join(', ')}`);
  return t;
}

/** Ids that end the model's turn under `template`: its end-of-turn tokens plus the tokenizer's EOS. */
export function stopTokenIds(
  template: ChatTemplate,
  tokenizer: TextTokenizer,
  modelEos: readonly number[] = [],
): number[] {
  const ids = new Set<number>([...tokenizer.eosIds, ...modelEos]);
  for (const t of template.endOfTurn) {
    const id = tokenizer.tokenId(t);
    if (id !== undefined) ids.add(id);
  }
  return [...ids];
}

/**
 * Where the answer starts in the training text: just after the prompt when the prompt is a prefix of
 * it (always true of these templates). The course uses `text.index(answer)`, which finds an earlier
 * copy when the answer also appears in the question; the prefix rule cannot.
 */
export function answerStart(template: ChatTemplate, question: string, answer: string): number {
  const text = template.withAnswer(question, answer);
  const prompt = template.withoutAnswer(question);
  return text.startsWith(prompt) ? prompt.length : text.indexOf(answer);
}
