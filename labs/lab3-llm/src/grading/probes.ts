/**
 * Probes for Lab 3: how the grader calls a student's Lab 3 code. The language-model exercises run
 * on a tiny random Llama (a few thousand parameters) with a llama2.c byte-level tokenizer written
 * to the sandbox's temporary folder; everything on the plain JavaScript backend.
 */

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, useBackend } from '@introdl/core';
import { chat, type LanguageModel, predictNextToken } from '../chat/chat.js';
import { PLAIN_TEMPLATE } from '../chat/templates.js';
import { parseJudgeScore } from '../eval/judge-parse.js';
import { randomWeights, tinyConfig, tinyLlama2cVocab } from '../fixtures/tiny.js';
import { expectedWeights } from '../model/config.js';
import { LlamaModel } from '../model/llama.js';
import { Llama2cTokenizer } from '../tokenizer/llama2c-tokenizer.js';
import { answerLoss, answerMask } from '../train/sft.js';

export async function setup(): Promise<void> {
  await useBackend('cpu');
}

/** A tiny random model and its tokenizer, the same for the same seed. */
function tinyModel(seed: number): LanguageModel {
  const { pieces, scores } = tinyLlama2cVocab();
  const config = tinyConfig(pieces.length, { seed });
  const raw = randomWeights(config, seed);
  const weights = new Map<string, tf.Tensor>();
  for (const [name, shape] of expectedWeights(config)) weights.set(name, tf.tensor(raw.get(name)!, shape));
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'lab3-')), 'tokenizer.bin');
  Llama2cTokenizer.write(file, pieces, scores);
  return { model: new LlamaModel(config, weights), tokenizer: Llama2cTokenizer.load(file, pieces.length) };
}

export function mask(input: { starts: number[]; answerStart: number }): number[] {
  return answerMask(input.starts, input.answerStart);
}

/** Each reply's score, or the name of the error it raised. */
export function judge(input: { replies: string[] }): (number | string)[] {
  return input.replies.map((reply) => {
    try {
      return parseJudgeScore(reply);
    } catch (err) {
      // A refused reply is an answer; anything else (a TODO, a bug) is the test's failure.
      if ((err as Error).name !== 'JudgeReplyError') throw err;
      return `error: ${(err as Error).name}`;
    }
  });
}

export function nextToken(input: { seed: number; prompt: string }) {
  const next = predictNextToken(tinyModel(input.seed), input.prompt);
  return { id: next.id, text: next.text, probability: next.probability };
}

export async function chatAnswer(input: { seed: number; question: string; maxNewTokens: number }) {
  const lm = tinyModel(input.seed);
  const full = await chat(lm, input.question, {
    template: PLAIN_TEMPLATE,
    maxNewTokens: input.maxNewTokens,
    temperature: 0,
  });
  const answer = await chat(lm, input.question, {
    template: PLAIN_TEMPLATE,
    maxNewTokens: input.maxNewTokens,
    temperature: 0,
    onlyAnswer: true,
  });
  return { full, answer };
}

export async function loss(input: { seed: number; ids: number[][]; mask: number[][] }): Promise<number> {
  const { model } = tinyModel(input.seed);
  const value = answerLoss(model, tf.tensor2d(input.ids, undefined, 'int32'), tf.tensor2d(input.mask));
  return (await value.data())[0];
}
