import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { answerStart, type ChatMessage, compileChatTemplate, jinjaTemplate, pythonStrip } from '../src/index.js';

/**
 * The chat templates the course's models publish (test/fixtures/chat-templates/*.json), rendered by
 * @huggingface/jinja for a two-turn conversation, against Python jinja2 set up as transformers'
 * apply_chat_template sets it up: expected.json was written by render.py (Debian python3-jinja2),
 * and where python3 can import jinja2 the test runs render.py again.
 */
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'chat-templates');
const MODELS = ['smollm2', 'qwen3', 'gemma2', 'gemma3', 'lfm2'] as const;
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as {
  conversation: ChatMessage[];
  models: Record<string, { model: string; full: string; prompt: string }>;
};
const spec = (name: string) =>
  JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as {
    model: string;
    chat_template: string;
    special_tokens: Record<string, string>;
  };

/** render.py --check with a python3 that has jinja2, or undefined. */
function pythonRenderings(): Record<string, { full: string; prompt: string }> | undefined {
  for (const python of [process.env.INTRODL_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean) as string[]) {
    const r = spawnSync(python, [path.join(dir, 'render.py'), '--check'], { encoding: 'utf8' });
    if (r.status === 0) return JSON.parse(r.stdout);
  }
  return undefined;
}

describe('chat templates of SmolLM2, Qwen3, Gemma 2, Gemma 3 and LFM2', () => {
  for (const name of MODELS) {
    it(`${name}: a two-turn conversation renders as Python jinja2 renders it`, () => {
      const s = spec(name);
      const template = jinjaTemplate(s.chat_template, s.special_tokens);
      const conversation = expected.conversation;
      expect(template.render?.(conversation, false)).toBe(expected.models[name].full);
      expect(template.render?.(conversation.slice(0, 3), true)).toBe(expected.models[name].prompt);
      // training needs the prompt to be a prefix of the text with the answer
      const question = conversation[0].content;
      const answer = conversation[1].content;
      expect(template.withAnswer(question, answer).startsWith(template.withoutAnswer(question))).toBe(true);
      const text = template.withAnswer(question, answer);
      expect(text.slice(answerStart(template, question, answer)).startsWith(answer)).toBe(true);
      expect(template.endOfTurn.length).toBe(1);
    });
  }

  it('strip, lstrip and rstrip take Python’s chars argument (the library would strip all whitespace)', () => {
    const t = compileChatTemplate("{{ x.lstrip('\\n') }}|{{ x.rstrip('\\n') }}|{{ x.strip('\\n ') }}|{{ x.strip() }}");
    expect(t.render({ x: '\n a \n' })).toBe(' a \n|\n a |a|a');
    expect(pythonStrip('strip', 'xxaxx', 'x')).toBe('a');
    expect(pythonStrip('lstrip', '\t a', null)).toBe('a');
  });

  const live = pythonRenderings();
  it.skipIf(!live)('expected.json is what Python jinja2 renders now (render.py --check)', () => {
    for (const name of MODELS) expect(live?.[name], name).toEqual(expected.models[name]);
  });
});
