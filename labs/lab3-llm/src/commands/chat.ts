import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type CommandSpec, RunFolder } from '@introdl/core';
import { chooseTemplate } from '../chat/templates.js';
import { chatWithRuntime } from '../export/runtime-chat.js';
import { loadForRuntime, RUNTIME_OPTION } from '../export/runtime-option.js';
import { LAB } from '../lab.js';
import { boundedNumber, MODEL_OPTIONS, positiveInt, requiredString, TEMPLATE_OPTION } from './shared.js';

/** `introdl lab3 chat`: an interactive terminal chat, answers streamed token by token. */
export const chatCommand: CommandSpec = {
  name: 'chat',
  description: 'chat with a model in the terminal (streaming); one question per line, /exit or Ctrl-D to quit',
  usesBackend: true,
  options: [
    ...MODEL_OPTIONS,
    RUNTIME_OPTION,
    TEMPLATE_OPTION,
    { flags: '--temperature <t>', description: '0 = greedy (the course uses 0.7)', default: '0.7' },
    { flags: '--max-tokens <n>', description: 'most tokens per answer', default: '128' },
    { flags: '--top-p <p>', description: 'nucleus sampling (1 = off)', default: '1' },
    { flags: '--question <text>', description: 'ask one question and exit instead of reading the terminal' },
  ],
  async run({ options, context }) {
    requiredString(options, 'model');
    const temperature = boundedNumber(options, 'temperature', 0.7, 0, 100);
    const maxNewTokens = positiveInt(options, 'maxTokens', 128);
    const topP = boundedNumber(options, 'topP', 1, 0, 1);
    const lm = await loadForRuntime(options, context);
    const template = chooseTemplate(String(options.template ?? 'auto'), lm.tokenizer);
    const run = RunFolder.create({
      lab: LAB,
      command: 'introdl lab3 chat',
      config: {
        model: lm.info.source,
        adapter: lm.info.adapter,
        template: template.name,
        temperature,
        maxNewTokens,
        topP,
      },
      seed: context.seed,
      backend: context.backend?.name,
      device: context.backend?.detail,
      out: context.out,
    });
    const transcript = run.output('transcript.jsonl');
    let turn = 0;
    const answer = async (question: string) => {
      const text = await chatWithRuntime(lm, question, {
        template,
        temperature,
        topP,
        maxNewTokens,
        onlyAnswer: true,
        seed: context.seed + turn++,
        onText: (piece) => process.stdout.write(piece),
      });
      process.stdout.write('\n');
      appendFileSync(transcript, `${JSON.stringify({ question, answer: text })}\n`);
    };
    if (typeof options.question === 'string') {
      await answer(options.question);
    } else {
      const interactive = Boolean(process.stdin.isTTY);
      if (interactive) context.log(`chatting with ${lm.info.source} (template ${template.name}); /exit to quit`);
      const rl = createInterface({
        input: process.stdin,
        output: interactive ? process.stdout : undefined,
        terminal: interactive,
      });
      if (interactive) rl.setPrompt('you> ');
      rl.prompt();
      for await (const line of rl) {
        const q = line.trim();
        if (q === '/exit' || q === '/quit') break;
        if (q) {
          if (interactive) process.stdout.write('model> ');
          await answer(q);
        }
        rl.prompt();
      }
      rl.close();
    }
    run.finish('completed', { turns: turn });
    lm.model.dispose();
    return 0;
  },
};
