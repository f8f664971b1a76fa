import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerLoss,
  learningRateAt,
  loadModel,
  objectiveSequences,
  PLAIN_TEMPLATE,
  padBatch,
  parseObjective,
  runSft,
  sequenceNll,
  styleTextRows,
  syntheticYodaPairs,
  syntheticYodaPassage,
  VALIDATION_LOGITS_BUDGET,
  validationBatchSize,
  validationLoss,
  writeTinyLlama2c,
} from '../src/index.js';
import { tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('the learning-rate schedule', () => {
  const s = { kind: 'cosine' as const, peak: 1e-3, warmup: 10, total: 110, finalFraction: 0.1 };
  it('warms up linearly, then decays along a cosine to the final fraction', () => {
    expect(learningRateAt(s, 1)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(s, 10)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(s, 60)).toBeCloseTo(0.55e-3, 12); // half way: the mean of peak and floor
    expect(learningRateAt(s, 110)).toBeCloseTo(1e-4, 12);
    for (let u = 11; u < 110; u++) expect(learningRateAt(s, u + 1)).toBeLessThanOrEqual(learningRateAt(s, u));
    expect(learningRateAt({ ...s, kind: 'constant' }, 80)).toBe(1e-3);
  });
});

describe('training objectives', () => {
  it('style text is packed as in pre-training: BOS before each text, rows within the context, every token trained', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const { tokenizer, model } = await loadModel(tiny.modelPath);
    const texts = syntheticYodaPairs(30, 1).map((p) => p.answer);
    const rows = styleTextRows(tokenizer, texts, 64);
    const flat = rows.flatMap((r) => r.ids);
    expect(flat.filter((id) => id === tokenizer.bosId)).toHaveLength(30);
    for (const r of rows) {
      expect(r.ids.length).toBeLessThanOrEqual(64);
      expect(r.ids[0]).toBe(tokenizer.bosId);
      expect(r.mask.every((m) => m === 1)).toBe(true);
    }
    // Nothing lost or reordered: the rows are the texts' own encodings, one after the other.
    expect(flat).toEqual(texts.flatMap((t) => tokenizer.encode(t, { addSpecialTokens: true })));
    const pairs = syntheticYodaPairs(5, 2);
    const answers = objectiveSequences('answers', tokenizer, PLAIN_TEMPLATE, pairs, 64);
    const both = objectiveSequences('answers+style-text', tokenizer, PLAIN_TEMPLATE, pairs, 64);
    expect(answers.size).toBe(5);
    expect(both.size).toBe(
      5 +
        styleTextRows(
          tokenizer,
          pairs.map((p) => p.answer),
          64,
        ).length,
    );
    expect(both.build(0)).toEqual(answers.build(0));
    expect(() => parseObjective('style')).toThrow(/--objective must be one of answers, style-text-only/);
    model.dispose();
  });

  it('the validation loss is the mean NLL per trained token, whatever the batching', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const { tokenizer, model } = await loadModel(tiny.modelPath);
    const source = objectiveSequences('answers', tokenizer, PLAIN_TEMPLATE, syntheticYodaPairs(7, 3), 64);
    const seqs = Array.from({ length: source.size }, (_, i) => source.build(i));
    // By hand: each sequence's mean answer loss, weighted by its count of trained targets.
    let sum = 0;
    let count = 0;
    for (const s of seqs) {
      const b = padBatch([s], tokenizer.padId);
      const targets = s.mask.slice(1).reduce((a, m) => a + m, 0);
      sum += tf.tidy(() => answerLoss(model, b.ids, b.mask).dataSync()[0]) * targets;
      count += targets;
      tf.dispose(b);
    }
    expect(validationLoss(model, seqs, tokenizer.padId, 3)).toBeCloseTo(sum / count, 4);
    expect(validationLoss(model, seqs, tokenizer.padId, 8)).toBeCloseTo(sum / count, 4);
    model.dispose();
  });

  it('validation batches stay within the logits budget however large the vocabulary', () => {
    const seq = (n: number) => ({ ids: Array.from({ length: n }, () => 1), mask: Array.from({ length: n }, () => 1) });
    const sorted = [seq(100), seq(120), seq(150), seq(150), seq(151), seq(400)];
    // A 512-token vocabulary: the cap of 8 (here the 6 there are) decides.
    expect(validationBatchSize(sorted, 0, 8, 512)).toBe(6);
    // SmolLM2's 49,152: 16M logits / 49,152 = 341 rows, so two 150-token sequences, not three.
    expect(validationBatchSize(sorted, 2, 8, 49_152)).toBe(2);
    for (let start = 0; start < sorted.length; start++) {
      const n = validationBatchSize(sorted, start, 8, 49_152);
      expect(n).toBeGreaterThanOrEqual(1);
      if (n > 1)
        expect(n * (sorted[start + n - 1].ids.length - 1) * 49_152).toBeLessThanOrEqual(VALIDATION_LOGITS_BUDGET);
    }
    // A sequence longer than the budget alone still gets a batch of its own.
    expect(validationBatchSize([seq(1000), seq(1000)], 0, 8, 49_152)).toBe(1);
  });

  it('the metric chunked through the KV cache equals the single causal pass', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const { tokenizer, model } = await loadModel(tiny.modelPath);
    const ids = tokenizer.encode(syntheticYodaPassage(), { addSpecialTokens: true }).slice(0, 60);
    const whole = sequenceNll(model, ids);
    // A budget of 7 rows of logits: chunks of 7 tokens, the last one shorter.
    const chunked = sequenceNll(model, ids, 7 * model.config.vocabSize);
    expect(whole.tokens).toBe(ids.length - 1);
    expect(chunked.tokens).toBe(whole.tokens);
    expect(Number.isFinite(whole.loss)).toBe(true);
    expect(chunked.loss).toBeCloseTo(whole.loss, 5);
    model.dispose();
  });
});

describe('the default recipe in runSft', () => {
  it('validates at update 0 and every N, logs the metric against updates, keeps the best adapter', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const lm = await loadModel(tiny.modelPath);
    const out = path.join(tmpDir(), 'run');
    const pairs = syntheticYodaPairs(40, 1);
    const r = await runSft({
      lm,
      pairs: pairs.slice(0, 32),
      validation: pairs.slice(32),
      template: PLAIN_TEMPLATE,
      objective: 'answers+style-text',
      steps: 20,
      learningRate: 5e-2, // far too high on purpose: the validation loss goes up again
      optimizer: 'adamw',
      schedule: { kind: 'cosine', warmup: 2, finalFraction: 0.1 },
      validateEvery: 4,
      patience: 2,
      seed: 1,
      out,
      evalText: syntheticYodaPassage(),
      progress: 'silent',
      log: () => {},
    });
    const steps = r.validations.map((v) => v.step);
    expect(steps[0]).toBe(0);
    expect(steps.every((s, i) => i === 0 || s === steps[i - 1] + 4)).toBe(true);
    const best = r.validations.reduce((a, b) => (b.valLoss < a.valLoss ? b : a));
    expect(r.bestStep).toBe(best.step);
    if (r.stoppedEarly) expect(steps.at(-1)).toBe(best.step + 8); // patience 2 validations
    const log = readFileSync(path.join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(log.filter((e) => e.metric !== undefined).map((e) => e.step)).toEqual(steps);
    expect(log.filter((e) => e.lr !== undefined)[0].lr).toBeCloseTo(2.5e-2, 10); // warm-up: half the peak
    // The adapter saved is the best one: its metric is the one reported after training.
    const best2 = r.validations.find((v) => v.step === r.bestStep);
    expect(r.metricAfter).toBeCloseTo(best2?.metric as number, 4);
    lm.model.dispose();
  });
});
