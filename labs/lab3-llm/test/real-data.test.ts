import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, tf, useBackend } from '@introdl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chooseTemplate,
  generate,
  loadModel,
  loadStyleData,
  readJudgePrompt,
  readStyledLines,
  readYodaSentences,
  runSft,
  StyleScorer,
  yodaTestLoss,
} from '../src/index.js';
import { tmpDir } from './helpers.js';

/**
 * Tests on the course's real files, looked up as the commands look them up (INTRODL_DATA/lab3-llm,
 * then the user cache). When INTRODL_DATA is set (CI sets it) every one of them runs, and a missing
 * file fails its test; only without INTRODL_DATA and without a cached copy are they skipped.
 */
const dirs = [
  process.env.INTRODL_DATA && path.join(process.env.INTRODL_DATA, 'lab3-llm'),
  path.join(cacheDir(), 'lab3-llm'),
].filter((d): d is string => Boolean(d));
const find = (name: string) => dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
const REQUIRED = Boolean(process.env.INTRODL_DATA);
const COURSE_FILES = [
  'stories260K.bin',
  'tok512.bin',
  'yoda.txt',
  'leprechaun.txt',
  'dolly-15k-instructions-first-2048.jsonl',
  'yoda_test_text.txt',
  'yoda_sentences.csv',
  'judge_prompt.json',
];
const skip = !REQUIRED && COURSE_FILES.some((f) => !find(f));
/** The file's path; with INTRODL_DATA set a missing file is a failure that names it, not a skip. */
const need = (name: string): string => {
  const p = find(name);
  if (!p) throw new Error(`${name} is missing from ${dirs.join(' and ')} (INTRODL_DATA is set, so the test must run)`);
  return p;
};

/**
 * run.c's greedy output of stories260K (`./run stories260K.bin -z tok512.bin -t 0.0 -n 200`), as
 * llama2.c's own test_all.py asserts it (MIT License).
 */
const RUN_C_GREEDY_200 =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\n' +
  'Lily\'s mom said, "Lily, let\'s go to the park." Lily was sad and didn\'t know what to do. She said, "I want to play with your ball, but I can\'t find it."\n' +
  "Lily was sad and didn't know what to do. She said, \"I'm sorry, Lily. I didn't know what to do.\"\n" +
  "Lily didn't want to help her mom, so she";

let previousBackend = '';
beforeAll(async () => {
  // The fastest CPU backend, as the commands use: the CI-sized training below takes seconds on it.
  previousBackend = tf.getBackend();
  await useBackend('wasm');
});
afterAll(async () => {
  if (previousBackend) await tf.setBackend(previousBackend);
});

describe.skipIf(skip)(`the course's Lab 3 files (INTRODL_DATA/lab3-llm)`, () => {
  it('stories260K: greedy generation from BOS reproduces run.c token for token', async () => {
    need('stories260K.bin');
    const { model, tokenizer } = await loadModel('stories260K');
    const out = await generate(model, [1], { maxNewTokens: 200, temperature: 0, stopTokens: [1] });
    const text = tokenizer.decode([1, ...out.tokens], { skipSpecialTokens: true });
    expect(
      text.startsWith(
        'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, r',
      ),
    ).toBe(true);
    expect(text).toBe(RUN_C_GREEDY_200);
    model.dispose();
  });

  it('stories260K: the competition metric of the base model on the Yoda passage is 3.44 over 418 tokens', async () => {
    const passage = readFileSync(need('yoda_test_text.txt'), 'utf8');
    expect(passage.trim().length).toBeGreaterThanOrEqual(680);
    const { model, tokenizer } = await loadModel('stories260K');
    const r = yodaTestLoss(model, tokenizer, passage);
    expect(r.tokens).toBe(418);
    expect(r.loss).toBeCloseTo(3.44, 2);
    model.dispose();
  });

  it('--data yoda and leprechaun pair styled line i with dolly instruction i offline, holding out 100', async () => {
    need('dolly-15k-instructions-first-2048.jsonl');
    const yoda = await loadStyleData('yoda');
    expect(yoda.pairs.length + yoda.validation.length).toBe(2048);
    expect(yoda.validation).toHaveLength(100);
    expect(yoda.testQuestions).toEqual(yoda.validation.map((p) => p.question));
    const lines = readStyledLines(need('yoda.txt'));
    const all = [...yoda.pairs, ...yoda.validation];
    const fish = all.find((p) => p.question === 'Which is a species of fish? Tope or Rope');
    expect(fish?.answer).toBe(lines[1]);
    expect(fish?.answer).toMatch(/^Fish, a species, Tope is\./);
    // Plain negatives come from dolly's context paragraphs, as the file has no responses.
    expect(yoda.plainSource).toMatch(/context/);
    expect(yoda.plainTexts.length).toBeGreaterThan(500);
    const withContext = await loadStyleData('yoda', { withContext: true });
    const virgin = [...withContext.pairs, ...withContext.validation].find((p) =>
      p.question.startsWith('When did Virgin Australia start operating?'),
    );
    expect(virgin?.question).toMatch(/\n\nVirgin Australia, the trading name/);
    const leprechaun = await loadStyleData('leprechaun');
    expect(leprechaun.pairs.length + leprechaun.validation.length).toBe(2048);
    expect(leprechaun.validation.map((p) => p.question)).toEqual(yoda.validation.map((p) => p.question));
    const text = await loadStyleData('yoda', { questions: false });
    expect(text.pairs.every((p) => p.question === '')).toBe(true);
  });

  it('the other course files read: yoda_sentences.csv and judge_prompt.json', () => {
    expect(readYodaSentences(need('yoda_sentences.csv')).length).toBe(600);
    expect(readJudgePrompt(need('judge_prompt.json')).system).toContain('{style}');
  });

  it('the offline style scorer tells held-out Yoda lines from plain text', async () => {
    const data = await loadStyleData('yoda');
    const scorer = await StyleScorer.train(data.styledTexts, data.plainTexts, { seed: 1 });
    expect(scorer.report.heldOutExamples).toBeGreaterThan(500);
    expect(scorer.report.heldOutAccuracy).toBeGreaterThan(0.95);
    const [yoda, plain] = scorer.score([
      'Hard to see, the dark side is. Patience you must have, young one.',
      'The airline started flying in 2000 with two aircraft on a single route.',
    ]);
    expect(yoda).toBeGreaterThan(0.5);
    expect(plain).toBeLessThan(0.5);
  });

  it('a CI-sized default-recipe training lowers the validation loss and the metric; the saved adapter reproduces it', async () => {
    const data = await loadStyleData('yoda');
    const lm = await loadModel('stories260K');
    const out = path.join(tmpDir(), 'run');
    const result = await runSft({
      lm,
      pairs: data.pairs,
      validation: data.validation.slice(0, 24),
      template: chooseTemplate('auto', lm.tokenizer),
      objective: 'answers+style-text',
      steps: 60,
      optimizer: 'adamw',
      learningRate: 5e-3,
      schedule: { kind: 'cosine', warmup: 5, finalFraction: 0.1 },
      validateEvery: 30,
      seed: 1,
      out,
      evalText: readFileSync(need('yoda_test_text.txt'), 'utf8'),
      progress: 'silent',
      log: () => {},
    });
    console.log(
      `CI-sized training: val_loss ${result.validations.map((v) => v.valLoss.toFixed(3)).join(' → ')}; metric ${result.metricBefore?.toFixed(3)} → ${result.metricAfter?.toFixed(3)}; ${result.seconds.toFixed(1)} s`,
    );
    const [first, ...rest] = result.validations;
    expect(first.step).toBe(0);
    expect(result.validations.map((v) => v.step)).toEqual([0, 30, 60]);
    expect(Math.min(...rest.map((v) => v.valLoss))).toBeLessThan(first.valLoss - 0.05);
    expect(result.metricBefore).toBeCloseTo(3.44, 2);
    expect(result.metricAfter as number).toBeLessThan((result.metricBefore as number) - 0.1);
    for (const f of ['loss.png', 'metric.png', 'summary.json', 'adapter/adapter_model.safetensors'])
      expect(existsSync(path.join(out, 'outputs', f)), f).toBe(true);
    const logged = readFileSync(path.join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.metric !== undefined);
    expect(logged.map((e) => e.step)).toEqual([0, 30, 60]);
    lm.model.dispose();
    // `metric --adapter <run>` loads the run's adapter: the same number.
    const reloaded = await loadModel('stories260K', { adapter: result.adapterDir });
    const passage = readFileSync(need('yoda_test_text.txt'), 'utf8');
    expect(yodaTestLoss(reloaded.model, reloaded.tokenizer, passage).loss).toBeCloseTo(result.metricAfter as number, 4);
    reloaded.model.dispose();
  });
});
