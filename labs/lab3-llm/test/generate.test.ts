import path from 'node:path';
import { Rng } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  argmax,
  chat,
  chooseTemplate,
  filterCandidates,
  GEMMA_TEMPLATE,
  generate,
  jinjaTemplate,
  LFM2_TEMPLATE,
  loadModel,
  predictNextToken,
  referenceLogits,
  sampleToken,
  softmaxWithTemperature,
  stopTokenIds,
  TINY_CHAT_TEMPLATE,
  writeTinyHfModel,
} from '../src/index.js';
import { tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('sampling', () => {
  const logits = [2, 1, 0.5, 3, -1];

  it('temperature 0 is argmax (first index on ties)', () => {
    expect(sampleToken(logits, { temperature: 0 }, new Rng(1))).toBe(3);
    expect(argmax([1, 5, 5])).toBe(1);
  });

  it('top-k keeps the k most likely, top-p the smallest set reaching p', () => {
    const p = softmaxWithTemperature(logits, 1);
    expect(filterCandidates(p, 2).ids).toEqual([3, 0]);
    // p ≈ [0.23, 0.09, 0.05, 0.63, 0.01]: 0.63 < 0.8 ≤ 0.63 + 0.23
    expect(filterCandidates(p, 0, 0.8).ids).toEqual([3, 0]);
    expect(filterCandidates(p, 0, 0.5).ids).toEqual([3]);
    const kept = filterCandidates(p, 0, 0.8).probs;
    expect(kept[0] + kept[1]).toBeCloseTo(1, 10);
  });

  it('samples in proportion to softmax(logits / T), reproducibly from a seed', () => {
    const rng = new Rng(5);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, { temperature: 1 }, rng)]++;
    const p = softmaxWithTemperature(logits, 1);
    counts.forEach((c, i) => {
      expect(Math.abs(c / 20000 - p[i])).toBeLessThan(0.015);
    });
    const a = Array.from({ length: 10 }, (_, i) => sampleToken(logits, { temperature: 2 }, new Rng(i)));
    const b = Array.from({ length: 10 }, (_, i) => sampleToken(logits, { temperature: 2 }, new Rng(i)));
    expect(a).toEqual(b);
    for (let i = 0; i < 200; i++) expect([3, 0]).toContain(sampleToken(logits, { temperature: 5, topK: 2 }, rng));
  });
});

describe('generation', () => {
  it('streams each token to the callback, stops at a stop token, and at the context limit', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), { maxPositions: 12 });
    const { model } = await loadModel(tiny.folder);
    const streamed: number[] = [];
    const free = await generate(model, [0, 40, 41], {
      maxNewTokens: 5,
      temperature: 1,
      seed: 3,
      onToken: (id) => void streamed.push(id),
    });
    expect(free.tokens).toEqual(streamed);
    expect(free.tokens.length).toBe(5);
    const again = await generate(model, [0, 40, 41], { maxNewTokens: 5, temperature: 1, seed: 3 });
    expect(again.tokens).toEqual(free.tokens);
    const stopAt = free.tokens[2];
    const stopped = await generate(model, [0, 40, 41], {
      maxNewTokens: 5,
      temperature: 1,
      seed: 3,
      stopTokens: [stopAt],
    });
    expect(stopped.tokens).toEqual(free.tokens.slice(0, free.tokens.indexOf(stopAt) + 1));
    expect(stopped.stoppedBy).toBe('stop-token');
    const long = await generate(model, [0, 40, 41], { maxNewTokens: 50, temperature: 0 });
    expect(long.stoppedBy).toBe('context');
    expect(long.tokens.length).toBe(12 - 3 + 1);
    model.dispose();
  });
});

describe('templates and chat', () => {
  it("the course's Gemma (2025) and LFM2 (2026) templates", () => {
    expect(GEMMA_TEMPLATE.withoutAnswer('What is the capital of France? Use one word.')).toBe(
      '<start_of_turn>user\nWhat is the capital of France? Use one word.<end_of_turn>\n<start_of_turn>model\n',
    );
    expect(GEMMA_TEMPLATE.withAnswer('Q', 'A')).toBe(
      '<start_of_turn>user\nQ<end_of_turn>\n<start_of_turn>model\nA<end_of_turn>\n',
    );
    expect(LFM2_TEMPLATE.withAnswer('What is your name?', 'My name is Lili!')).toBe(
      '<|startoftext|><|im_start|>user\nWhat is your name?<|im_end|>\n<|im_start|>assistant\nMy name is Lili!<|im_end|>\n',
    );
  });

  it("the model's Jinja template from tokenizer_config.json, rendered with @huggingface/jinja", async () => {
    const t = jinjaTemplate(TINY_CHAT_TEMPLATE, { bos_token: '<|bos|>' });
    expect(t.withoutAnswer('Hi?')).toBe('<|bos|><|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n');
    expect(t.withAnswer('Hi?', 'Hello.')).toBe(
      '<|bos|><|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\nHello.<|im_end|>\n',
    );
    expect(t.endOfTurn).toEqual(['<|im_end|>']);
    const { tokenizer, model } = await loadModel(writeTinyHfModel(path.join(tmpDir(), 'm')).folder);
    expect(stopTokenIds(chooseTemplate('auto', tokenizer), tokenizer).sort()).toEqual([1, 4]);
    expect(() => chooseTemplate('nope', tokenizer)).toThrow(/unknown template "nope"/);
    model.dispose();
  });

  it('predictNextToken is the argmax of the reference forward at the last position', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const lm = await loadModel(tiny.folder);
    const prompt = 'What is the capital of France?';
    const next = predictNextToken(lm, prompt);
    const ids = lm.tokenizer.encode(prompt);
    const V = tiny.config.vocabSize;
    const last = referenceLogits(tiny.config, tiny.weights, ids, { rope: 'half' }).subarray((ids.length - 1) * V);
    expect(next.id).toBe(argmax(last));
    expect(next.probability).toBeGreaterThan(0);
    expect(next.probability).toBeLessThanOrEqual(1);
    lm.model.dispose();
  });

  it('chat(): streams the answer, returns it alone with onlyAnswer, and with the prompt otherwise', async () => {
    const lm = await loadModel(writeTinyHfModel(path.join(tmpDir(), 'm')).folder);
    const template = chooseTemplate('auto', lm.tokenizer);
    const pieces: string[] = [];
    const answer = await chat(lm, 'Is it on?', {
      template,
      maxNewTokens: 8,
      temperature: 0.7,
      seed: 1,
      onlyAnswer: true,
      onText: (p) => void pieces.push(p),
    });
    expect(pieces.join('')).toBe(answer);
    const full = await chat(lm, 'Is it on?', { template, maxNewTokens: 8, temperature: 0.7, seed: 1 });
    expect(full).toBe(`user\nIs it on?\nassistant\n${answer}`);
    lm.model.dispose();
  });
});
