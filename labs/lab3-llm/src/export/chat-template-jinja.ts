/**
 * The lab's built-in chat templates written as the Jinja `chat_template` of tokenizer_config.json, so
 * an exported model formats conversations as it was trained: rendered with the user turn and
 * `add_generation_prompt`, each gives exactly the template's `withoutAnswer(question)`; with the user
 * and assistant turns, its `withAnswer(question, answer)`.
 */

const turns = (user: string, assistant: string, generation: string) =>
  `{% for message in messages %}{% if message['role'] == 'user' %}${user}{% elif message['role'] == 'assistant' %}${assistant}{% endif %}{% endfor %}{% if add_generation_prompt %}${generation}{% endif %}`;

const content = "{{ message['content'] }}";

/** Jinja for the built-in templates, by the lab's template name. */
export const BUILTIN_CHAT_TEMPLATES_JINJA: Record<string, string> = {
  plain: turns(`Question: ${content}\n`, `Answer:\n${content}\n`, 'Answer:\n'),
  gemma: `{{ bos_token }}${turns(
    `<start_of_turn>user\n${content}<end_of_turn>\n`,
    `<start_of_turn>model\n${content}<end_of_turn>\n`,
    '<start_of_turn>model\n',
  )}`,
  lfm2: `<|startoftext|>${turns(
    `<|im_start|>user\n${content}<|im_end|>\n`,
    `<|im_start|>assistant\n${content}<|im_end|>\n`,
    '<|im_start|>assistant\n',
  )}`,
};
