import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, BadFlagError, MissingDataError } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import {
  loadStyleData,
  parseCsv,
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
    expect(() => readDollyJsonl(file('bad.jsonl', '{"instruction": 1}\n'))).toThrow(/line 1 lacks string/);
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

  it('loadStyleData: synthetic works offline; yoda needs --dolly; missing files say where they were looked for', async () => {
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
      const yoda = file('yoda.txt', 'Strong, you are.\n');
      await expect(loadStyleData(yoda)).rejects.toThrow(/pass --dolly/);
      await expect(loadStyleData('nonsense')).rejects.toBeInstanceOf(BadFlagError);
    } finally {
      for (const [k, v] of Object.entries({ INTRODL_DATA: saved.data, INTRODL_CACHE: saved.cache })) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
