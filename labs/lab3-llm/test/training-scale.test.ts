import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerLoss,
  applyLora,
  chooseTemplate,
  crossEntropyRows,
  loadModel,
  MODEL_SHAPES,
  PackedSftBatches,
  packBatch,
  packRows,
  padBatch,
  runSft,
  type SftSequence,
  syntheticYodaPairs,
  writeRandomModel,
  writeTinyHfModel,
} from '../src/index.js';
import { maxAbsDiff, tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('the loss at vocabulary scale', () => {
  it('cross-entropy with the hand-written gradient equals autodiff of the textbook formula', () => {
    const logits = tf.randomNormal([7, 33], 0, 2, 'float32', 3) as tf.Tensor2D;
    const targets = tf.tensor1d([0, 5, 32, 7, 7, 1, 20], 'int32');
    const weights = tf.tensor1d([1, 0.5, 2, 0, 1, 3, 1]);
    const textbook = (x: tf.Tensor2D) =>
      tf.sum(tf.mul(tf.sub(tf.logSumExp(x, -1), tf.sum(tf.mul(x, tf.oneHot(targets, 33)), -1)), weights)) as tf.Scalar;
    const ours = (x: tf.Tensor2D) => tf.sum(tf.mul(crossEntropyRows(x, targets), weights)) as tf.Scalar;
    const a = tf.valueAndGrad(textbook)(logits);
    const b = tf.valueAndGrad(ours)(logits);
    expect(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0])).toBeLessThan(1e-4);
    expect(maxAbsDiff(a.grad.dataSync(), b.grad.dataSync())).toBeLessThan(1e-5);
    tf.dispose([logits, targets, weights, a.value, a.grad, b.value, b.grad]);
  });
});

describe('sequence packing', () => {
  const seq = (n: number, start: number, answerFrom: number): SftSequence => ({
    ids: Array.from({ length: n }, (_, i) => start + i),
    mask: Array.from({ length: n }, (_, i) => (i >= answerFrom ? 1 : 0)),
  });

  it('packs whole examples greedily into rows of the context length', () => {
    const lengths = [5, 4, 3, 6, 2];
    expect(packRows([0, 1, 2, 3, 4], (i) => lengths[i], 10)).toEqual([[0, 1], [2, 3], [4]]);
    expect(packRows([3, 4, 0], (i) => lengths[i], 6)).toEqual([[3], [4], [0]]);
    const { batch, packing, tokens } = packBatch([[seq(3, 10, 1), seq(2, 20, 1)], [seq(4, 30, 2)]], 0);
    expect(batch.ids.shape).toEqual([2, 5]);
    expect([...packing.segments]).toEqual([0, 0, 0, 1, 1, 0, 0, 0, 0, -1]);
    expect([...packing.positions]).toEqual([0, 1, 2, 0, 1, 0, 1, 2, 3, 0]);
    expect(tokens).toBe(9);
    tf.dispose(batch);
  });

  it('batches are a function of the step (exact resume) and cover every example each epoch', () => {
    const sequences = Array.from({ length: 9 }, (_, i) => seq(2 + (i % 4), 10 * i, 1));
    const a = new PackedSftBatches((i) => sequences[i], 9, 2, 0, 7, 8);
    const b = new PackedSftBatches((i) => sequences[i], 9, 2, 0, 7, 8);
    expect(b.stepRows(3)).toEqual(a.stepRows(3)); // b jumps straight to step 3
    const seen: number[] = [];
    for (let s = 1; seen.length < 9; s++) for (const row of a.stepRows(s)) seen.push(...row);
    expect(seen.slice(0, 9).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(a.meanExamplesPerRow()).toBeGreaterThan(1.5);
  });

  it('the loss of a packed row is the loss of its examples padded separately, and so are the LoRA gradients', async () => {
    const { model } = await loadModel(writeTinyHfModel(path.join(tmpDir(), 'm'), { numLayers: 2 }).folder);
    applyLora(model, { r: 2, targetModules: ['q_proj', 'v_proj', 'down_proj'], seed: 2 });
    for (const [name, v] of model.variables())
      if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 9));
    const examples = [seq(6, 40, 3), seq(5, 60, 2), seq(7, 80, 4)];
    const vars = [...model.variables().values()];
    const lossOf = (f: () => tf.Scalar) => {
      const { value, grads } = tf.variableGrads(f, vars);
      const out = { loss: value.dataSync()[0], grads: Object.values(grads).map((g) => g.dataSync() as Float32Array) };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const padded = padBatch(examples, 2);
    const packed = packBatch([[examples[0], examples[1]], [examples[2]]], 2);
    const a = lossOf(() => answerLoss(model, padded.ids, padded.mask, { training: true }));
    const b = lossOf(() =>
      answerLoss(model, packed.batch.ids, packed.batch.mask, { training: true, packing: packed.packing }),
    );
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
    for (const [i, g] of a.grads.entries()) expect(maxAbsDiff(g, b.grads[i])).toBeLessThan(1e-5);
    tf.dispose([padded, packed.batch]);
    model.dispose();
  });
});

describe('training at laptop scale', () => {
  it('runSft with packed rows and checkpointed layers: tokens/s and peak memory in the progress, log and result', async () => {
    const lm = await loadModel(writeTinyHfModel(path.join(tmpDir(), 'm'), { numLayers: 2 }).folder);
    const progress: string[] = [];
    const out = path.join(tmpDir(), 'run');
    const result = await runSft({
      lm,
      pairs: syntheticYodaPairs(24, 1),
      template: chooseTemplate('auto', lm.tokenizer),
      steps: 3,
      learningRate: 1e-3,
      lora: { r: 2 },
      batchSize: 1,
      contextLength: 96,
      pack: true,
      checkpointing: true,
      seed: 1,
      out,
      progress: 'silent',
      log: (m) => progress.push(m),
    });
    expect(result.tokensPerSecond).toBeGreaterThan(0);
    expect(result.peakMemoryBytes).toBeGreaterThan(10e6);
    const entries = readFileSync(path.join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.loss !== undefined);
    expect(entries).toHaveLength(3);
    // a packed row holds several synthetic examples (each well under 96 tokens)
    for (const e of entries) expect(e.tokens).toBeGreaterThan(40);
    expect(entries.every((e) => e.peak_rss_mb > 10 && e.tokens_per_s > 0)).toBe(true);
    const summary = JSON.parse(readFileSync(path.join(out, 'outputs', 'summary.json'), 'utf8'));
    expect(summary.peakMemoryBytes).toBe(result.peakMemoryBytes);
    const config = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).config;
    expect(config).toMatchObject({ pack: true, checkpointing: true, baseStorage: 'f32' });
    lm.model.dispose();
  });

  it('writeRandomModel writes a loadable bfloat16 folder of a named shape', async () => {
    MODEL_SHAPES['test-tiny'] = {
      repo: 'test/tiny',
      config: {
        ...MODEL_SHAPES['lfm2-1.2b'].config,
        hidden_size: 16,
        block_ff_dim: 48,
        num_hidden_layers: 3,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        vocab_size: 300,
        layer_types: ['conv', 'full_attention', 'conv'],
        block_multiple_of: 8,
      },
    };
    try {
      const m = writeRandomModel(path.join(tmpDir(), 'r'), 'test-tiny', 3);
      const { model, info, tokenizer } = await loadModel(m.folder, { baseDtype: 'bf16' });
      expect(info).toMatchObject({ architecture: 'lfm2', storage: 'bf16', parameters: m.parameters });
      expect(m.bytes).toBe(m.parameters * 2);
      const logits = tf.tidy(() =>
        model.forward(tf.tensor2d([tokenizer.encode('is it on?')], undefined, 'int32')).dataSync(),
      );
      expect(logits.every(Number.isFinite)).toBe(true);
      model.dispose();
    } finally {
      delete MODEL_SHAPES['test-tiny'];
    }
  });
});
