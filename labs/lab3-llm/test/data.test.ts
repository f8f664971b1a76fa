import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, BadFlagError, MissingDataError } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import {
  dollyQuestion,
  holdOut,
  loadStyleData,
  parseCsv,
  plainPassages,
  readDollyJsonl,
  readJudgePrompt,
  readStyledLines,
  readYodaSentences,
  styledDolly,
} from '../src/index.js';
import { tmpDir } from './helpers.js';

function file(name: string, content: string): string {
  const p = path.join(tmpDir(), name);
  writeFileSync(p, content);
  return p;
}

describe('Lab 3 data readers', () => {
  it('styled lines: stripped, literal \\n turned into newlines', () => {
    const p = file(
      'yoda.txt',
      'Fish, a species, Tope is. Rope, not a fish, it is. Mmm\n  Line two\\nwith a break.  \n',
    );
    expect(readStyledLines(p)).toEqual([
      'Fish, a species, Tope is. Rope, not a fish, it is. Mmm',
      'Line two\nwith a break.',
    ]);
  });

  it('CSV with quotes, doubled quotes, commas and newlines inside fields', () => {
    expect(parseCsv('a,b\n"x, y","say ""hi""\nthere"\r\n1,2')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"\nthere'],
      ['1', '2'],
    ]);
    expect(() => parseCsv('"open', 'f.csv')).toThrow(/ends inside a quoted field/);
  });

  it('yoda_sentences.csv by column; headerless two columns; wrong header named', () => {
    const p = file(
      'y.csv',
      'sentence,translation,translation_extra\nYou must learn.,"Learn, you must.","Learn, you must. Hmm."\n',
    );
    expect(readYodaSentences(p)).toEqual([{ question: 'You must learn.', answer: 'Learn, you must.' }]);
    expect(readYodaSentences(p, 'translation_extra')[0].answer).toBe('Learn, you must. Hmm.');
    expect(readYodaSentences(file('z.csv', 'Go.,"Go, you will."\n'))).toEqual([
      { question: 'Go.', answer: 'Go, you will.' },
    ]);
    expect(() => readYodaSentences(file('w.csv', 'en,yo,extra\na,b,c\n'))).toThrow(BadFileError);
  });

  it('dolly JSON Lines, paired with styled lines as the course does', () => {
    const rows = Array.from({ length: 5 }, (_, i) =>
      JSON.stringify({ instruction: `q${i}`, context: '', response: `r${i}`, category: 'c' }),
    );
    const dolly = readDollyJsonl(file('d.jsonl', `${rows.join('\n')}\n`));
    const { train, testQuestions } = styledDolly(dolly, ['s0', 's1']);
    expect(train).toEqual([
      { question: 'q0', answer: 's0' },
      { question: 'q1', answer: 's1' },
    ]);
    expect(testQuestions).toEqual(['q2', 'q3']);
    expect(() => readDollyJsonl(file('bad.jsonl', '{"instruction": 1}\n'))).toThrow(
      /line 1 lacks a string "instruction"/,
    );
    expect(() => readDollyJsonl(file('bad2.jsonl', '{"instruction": "q", "response": 3}\n'))).toThrow(
      /line 1: "response" must be a string/,
    );
  });

  it('the offline instructions file (no responses): contexts on request, plain passages from the contexts', () => {
    const rows = readDollyJsonl(
      file(
        'i.jsonl',
        [
          {
            index: 0,
            instruction: 'When did it start?',
            context: 'It started in 2000.[3] It grew fast. It has 32 routes now.',
          },
          { index: 1, instruction: 'Which is a fish?', context: '' },
        ]
          .map((r) => JSON.stringify(r))
          .join('\n'),
      ),
    );
    expect(rows.map((r) => r.response)).toEqual(['', '']);
    expect(dollyQuestion(rows[0])).toBe('When did it start?');
    expect(dollyQuestion(rows[0], true)).toBe(
      'When did it start?\n\nIt started in 2000.[3] It grew fast. It has 32 routes now.',
    );
    expect(dollyQuestion(rows[1], true)).toBe('Which is a fish?');
    expect(plainPassages(rows, 20)).toEqual(['It started in 2000. It grew fast.', 'It has 32 routes now.']);
    const { train, testQuestions } = styledDolly(rows, ['Started in 2000, it did.', 'A fish, Tope is.']);
    expect(train[1]).toEqual({ question: 'Which is a fish?', answer: 'A fish, Tope is.' });
    expect(testQuestions).toEqual([]);
  });

  it('holds out a fixed, seed-independent part of the examples, at most 100', () => {
    const items = Array.from({ length: 2048 }, (_, i) => i);
    const a = holdOut(items, 0.1);
    expect(a.heldOut).toHaveLength(100);
    expect(a.train).toHaveLength(1948);
    expect(new Set([...a.train, ...a.heldOut]).size).toBe(2048);
    expect(holdOut(items, 0.1).heldOut).toEqual(a.heldOut);
    const small = holdOut([1, 2, 3], 0.1);
    expect([small.train.length, small.heldOut.length]).toEqual([2, 1]);
    expect(holdOut([1, 2], 0.9).train).toHaveLength(1);
  });

  it('judge_prompt.json: system template found by content, user template, example', () => {
    const p = file(
      'judge_prompt.json',
      JSON.stringify({
        system_prompt_2025: 'You are an impartial judge ... {style} ... score 2025',
        system_prompt_2026:
          'You are an impartial judge that evaluates if text was written by {style}. {example} Give a score.',
        yoda_example: 'Hard to see, the dark side is.',
        user_prompt: 'Evaluate this text: {text}',
      }),
    );
    expect(readJudgePrompt(p)).toEqual({
      system: 'You are an impartial judge that evaluates if text was written by {style}. {example} Give a score.',
      user: 'Evaluate this text: {text}',
      example: 'Hard to see, the dark side is.',
    });
    expect(readJudgePrompt(p, '2025').system).toMatch(/2025/);
  });

  it('loadStyleData: synthetic works offline; yoda needs the instructions file; missing files say where they were looked for', async () => {
    const data = await loadStyleData('synthetic', { seed: 1 });
    expect(data.pairs.length).toBe(540);
    expect(data.testQuestions.length).toBe(60);
    const saved = { data: process.env.INTRODL_DATA, cache: process.env.INTRODL_CACHE };
    process.env.INTRODL_DATA = tmpDir();
    process.env.INTRODL_CACHE = tmpDir();
    try {
      const err = await loadStyleData('yoda-sentences').catch((e) => e);
      expect(err).toBeInstanceOf(MissingDataError);
      expect(err.message).toMatch(/yoda_sentences\.csv was not found[\s\S]*pass --data <path to yoda_sentences\.csv>/);
      const yoda = file('yoda.txt', 'Strong, you are.\nLearn, you must.\n');
      const noDolly = await loadStyleData(yoda).catch((e) => e);
      expect(noDolly).toBeInstanceOf(MissingDataError);
      expect(noDolly.message).toMatch(/dolly-15k-instructions-first-2048\.jsonl was not found[\s\S]*pass --dolly/);
      expect(noDolly.message).toMatch(/--objective style-text-only/);
      // Style text alone needs no instructions.
      const text = await loadStyleData(yoda, { questions: false });
      expect([...text.pairs, ...text.validation].map((p) => p.question)).toEqual(['', '']);
      expect(text.validation).toHaveLength(1);
      await expect(loadStyleData('nonsense')).rejects.toBeInstanceOf(BadFlagError);
    } finally {
      for (const [k, v] of Object.entries({ INTRODL_DATA: saved.data, INTRODL_CACHE: saved.cache })) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
