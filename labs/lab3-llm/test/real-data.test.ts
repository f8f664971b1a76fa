import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generate,
  loadModel,
  readJudgePrompt,
  readStyledLines,
  readYodaSentences,
  yodaTestLoss,
} from '../src/index.js';
import { useCpu } from './helpers.js';

/**
 * Tests on the course's real files. They are looked up as the commands look them up
 * (INTRODL_DATA/lab3-llm, then the user cache) and skipped, with the reason in the name, when absent.
 */
const dirs = [
  process.env.INTRODL_DATA && path.join(process.env.INTRODL_DATA, 'lab3-llm'),
  path.join(cacheDir(), 'lab3-llm'),
].filter((d): d is string => Boolean(d));
const find = (name: string) => dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
const stories = find('stories260K.bin');
const tok512 = find('tok512.bin');
const provenance = find('PROVENANCE.md');

/**
 * run.c's greedy output of stories260K (`./run stories260K.bin -z tok512.bin -t 0.0 -n 200`), as
 * llama2.c's own test_all.py asserts it (MIT License).
 */
const RUN_C_GREEDY_200 =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n' +
  'Lily\'s mom said, "Lily, let\'s go to the park." Lily was sad and didn\'t know what to do. She said, "I want to play with your ball, but I can\'t find it."\n' +
  "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n" +
  "Lily didn't want to help her mom, so she";

/** The first list of ≥ 8 integers after the word "golden" in PROVENANCE.md, if any. */
function goldenIds(file: string): number[] | undefined {
  const text = readFileSync(file, 'utf8');
  const at = text.search(/golden/i);
  if (at < 0) return undefined;
  for (const m of text.slice(at).matchAll(/\[([\d,\s]+)\]|((?:\d+[ ,]+){7,}\d+)/g)) {
    const ids = (m[1] ?? m[2])
      .split(/[^\d]+/)
      .filter(Boolean)
      .map(Number);
    if (ids.length >= 8) return ids;
  }
  return undefined;
}

beforeAll(useCpu);

describe.skipIf(!stories || !tok512)('stories260K (INTRODL_DATA/lab3-llm/stories260K.bin + tok512.bin)', () => {
  it('greedy generation from BOS reproduces run.c token for token', async () => {
    const { model, tokenizer } = await loadModel('stories260K');
    const out = await generate(model, [1], { maxNewTokens: 200, temperature: 0, stopTokens: [1] });
    expect(tokenizer.decode([1, ...out.tokens], { skipSpecialTokens: true })).toBe(RUN_C_GREEDY_200);
    const golden = provenance ? goldenIds(provenance) : undefined;
    if (golden) {
      const ids = golden[0] === 1 ? golden.slice(1) : golden;
      expect(out.tokens.slice(0, ids.length)).toEqual(ids);
    } else {
      console.log("PROVENANCE.md has no golden token ids: compared with run.c's published text only");
    }
    model.dispose();
  });

  it('the competition metric on the Yoda passage is a finite mean NLL', async () => {
    const passage = find('yoda_test_text.txt');
    if (!passage) return;
    const { model, tokenizer } = await loadModel('stories260K');
    const r = yodaTestLoss(model, tokenizer, readFileSync(passage, 'utf8'));
    console.log(`stories260K: Yoda test loglikelihood: ${r.loss.toFixed(2)} over ${r.tokens} tokens`);
    expect(Number.isFinite(r.loss)).toBe(true);
    model.dispose();
  });
});

describe.skipIf(!find('yoda_test_text.txt'))('yoda_test_text.txt', () => {
  it('is the 689-character passage', () => {
    expect(readFileSync(find('yoda_test_text.txt')!, 'utf8').trim().length).toBeGreaterThanOrEqual(680);
  });
});

describe.skipIf(!find('yoda.txt'))('yoda.txt', () => {
  it('has 2048 styled answers', () => {
    expect(readStyledLines(find('yoda.txt')!).length).toBe(2048);
  });
});

describe.skipIf(!find('yoda_sentences.csv'))('yoda_sentences.csv', () => {
  it('reads as English → Yoda pairs', () => {
    expect(readYodaSentences(find('yoda_sentences.csv')!).length).toBeGreaterThan(100);
  });
});

describe.skipIf(!find('judge_prompt.json'))('judge_prompt.json', () => {
  it('holds the judge system prompt with {style}', () => {
    expect(readJudgePrompt(find('judge_prompt.json')!).system).toContain('{style}');
  });
});
