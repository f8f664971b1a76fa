import path from 'node:path';
import { tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  generate,
  KVCache,
  loadModel,
  readLlama2c,
  referenceLogits,
  writeTinyHfModel,
  writeTinyLlama2c,
} from '../src/index.js';
import { maxAbsDiff, modelLogits, tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('tfjs decoder against the plain-TypeScript reference', () => {
  it('llama2.c checkpoint: loader permutes q/k for rotate-half, logits match interleaved run.c maths within 1e-4', async () => {
    const tiny = writeTinyLlama2c(tmpDir(), { numHeads: 4, numKvHeads: 2 });
    const { model, tokenizer, info } = await loadModel(tiny.modelPath);
    expect(info.format).toBe('llama2c');
    expect(info.parameters).toBeGreaterThan(1000);
    const ids = tokenizer.encode('the cat sat on the mat, you must.');
    const ours = modelLogits(model, ids);
    const reference = referenceLogits(tiny.config, tiny.weights, ids, { rope: 'interleaved' });
    const diff = maxAbsDiff(ours, reference);
    console.log(`llama2.c fixture: ${ids.length} tokens, logits max |diff| vs reference = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    // and the permutation is what makes it work: rotate-half on the file's layout gives other logits
    const wrong = referenceLogits(tiny.config, tiny.weights, ids, { rope: 'half' });
    expect(maxAbsDiff(wrong, reference)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('llama2.c untied classifier (negative vocab in the header)', async () => {
    const tiny = writeTinyLlama2c(tmpDir(), { tieWordEmbeddings: false, numKvHeads: 4 });
    const read = readLlama2c(tiny.modelPath, { layout: 'interleaved' });
    expect(read.header.sharedClassifier).toBe(false);
    expect(read.weights.get('lm_head.weight')).toEqual(tiny.weights.get('lm_head.weight'));
    const { model } = await loadModel(tiny.modelPath);
    const ids = [1, 5, 300, 17, 42];
    expect(
      maxAbsDiff(modelLogits(model, ids), referenceLogits(tiny.config, tiny.weights, ids, { rope: 'interleaved' })),
    ).toBeLessThan(1e-4);
    model.dispose();
  });

  for (const dtype of ['F32', 'BF16', 'F16'] as const) {
    it(`Hugging Face folder, ${dtype}, 2 shards + index: logits match the reference within 1e-4`, async () => {
      const tiny = writeTinyHfModel(path.join(tmpDir(), 'tiny-llama'), { dtype, shards: 2 });
      const { model, tokenizer, info } = await loadModel(tiny.folder);
      expect(info.dtypes).toEqual([dtype]);
      expect(info.fileBytes).toBe(info.parameters * (dtype === 'F32' ? 4 : 2));
      const ids = tokenizer.encode('the hat is on the mat. You must see it.');
      expect(ids[0]).toBe(0); // BOS from the tokenizer's post-processor
      const diff = maxAbsDiff(
        modelLogits(model, ids),
        referenceLogits(tiny.config, tiny.weights, ids, { rope: 'half' }),
      );
      console.log(`HF fixture ${dtype}: ${ids.length} tokens, logits max |diff| = ${diff.toExponential(2)}`);
      expect(diff).toBeLessThan(1e-4);
      model.dispose();
    });
  }

  it('Qwen2-style: q/k/v biases, untied head, padded embedding rows, one shard', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'tiny-qwen'), {
      architecture: 'qwen2',
      tieWordEmbeddings: false,
      shards: 1,
      extraVocab: 7,
      numHeads: 4,
      numKvHeads: 1,
    });
    const { model, tokenizer } = await loadModel(tiny.folder);
    expect(model.config.attentionBias).toBe(true);
    expect(model.config.vocabSize).toBe(tokenizer.vocabSize + 7);
    const ids = tokenizer.encode('is it on?');
    expect(
      maxAbsDiff(modelLogits(model, ids), referenceLogits(tiny.config, tiny.weights, ids, { rope: 'half' })),
    ).toBeLessThan(1e-4);
    model.dispose();
  });
});

describe('KV cache and batching', () => {
  it('one token at a time with the cache gives the full pass logits', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), {});
    const { model } = await loadModel(tiny.folder);
    const ids = [0, 50, 51, 52, 80, 81, 100, 7];
    const full = modelLogits(model, ids);
    const cache = new KVCache(model.config.numLayers);
    const V = model.config.vocabSize;
    // a 3-token prefill, then single tokens
    const parts = [ids.slice(0, 3), ...ids.slice(3).map((t) => [t])];
    let pos = 0;
    for (const part of parts) {
      const step = tf.tidy(() => model.forward(tf.tensor2d(part, [1, part.length], 'int32'), { cache })).dataSync();
      expect(maxAbsDiff(step, full.subarray(pos * V, (pos + part.length) * V))).toBeLessThan(1e-5);
      pos += part.length;
    }
    expect(cache.length).toBe(ids.length);
    cache.dispose();
    model.dispose();
  });

  it('right padding leaves the real positions unchanged', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), {});
    const { model } = await loadModel(tiny.folder);
    const a = [0, 40, 41, 42, 43, 44];
    const b = [0, 60, 61];
    const padded = [...b, 2, 2, 2];
    const batch = tf
      .tidy(() => model.forward(tf.tensor2d([...a, ...padded], [2, 6], 'int32')))
      .arraySync() as number[][][];
    const aloneB = modelLogits(model, b);
    expect(maxAbsDiff(batch[1].slice(0, 3).flat(), aloneB)).toBeLessThan(1e-5);
    expect(maxAbsDiff(batch[0].flat(), modelLogits(model, a))).toBeLessThan(1e-5);
    model.dispose();
  });

  it('greedy generation equals argmax of the reference, step by step', async () => {
    const tiny = writeTinyLlama2c(tmpDir(), {});
    const { model } = await loadModel(tiny.modelPath);
    const prompt = [1, 300, 301];
    const out = await generate(model, prompt, { maxNewTokens: 12, temperature: 0 });
    const seq = [...prompt];
    const V = tiny.config.vocabSize;
    for (let i = 0; i < 12; i++) {
      const logits = referenceLogits(tiny.config, tiny.weights, seq, { rope: 'interleaved' }).subarray(
        (seq.length - 1) * V,
      );
      let best = 0;
      for (let j = 1; j < V; j++) if (logits[j] > logits[best]) best = j;
      seq.push(best);
      if (best === 1) break;
    }
    expect(out.tokens).toEqual(seq.slice(prompt.length));
    model.dispose();
  });
});
