import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Rng, tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  answerLoss,
  applyLora,
  configFromHf,
  expectedWeights,
  KVCache,
  layerType,
  loadModel,
  parameterCount,
  referenceLogits,
  TINY_ARCHITECTURES,
  writeTinyHfModel,
} from '../src/index.js';
import { maxAbsDiff, modelLogits, tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

const here = path.dirname(fileURLToPath(import.meta.url));
const published = JSON.parse(readFileSync(path.join(here, 'fixtures', 'hf-configs.json'), 'utf8')) as Record<
  string,
  { parameters: number; config: Record<string, unknown> }
>;

describe('config.json of the models the course uses', () => {
  it('SmolLM2, Qwen3, Gemma 2, Gemma 3 and LFM2 parse to their published parameter counts', () => {
    for (const [name, { parameters, config }] of Object.entries(published)) {
      if (name.startsWith('_')) continue;
      const c = configFromHf(config, `${name}/config.json`);
      expect(parameterCount(c), name).toBe(parameters);
    }
  });

  it('reads each architecture’s quirks', () => {
    const gemma2 = configFromHf(published['google/gemma-2-2b-it'].config, 'g2');
    expect(gemma2).toMatchObject({ attnSoftcap: 50, finalSoftcap: 30, slidingWindow: 4096, normOffset: 1 });
    expect(gemma2.queryScale).toBeCloseTo(1 / 16, 12);
    expect(gemma2.embedScale).toBe(Math.fround(Math.sqrt(2304)));
    expect(gemma2.layerTypes?.slice(0, 4)).toEqual(['sliding', 'attention', 'sliding', 'attention']);
    const gemma3 = configFromHf(published['google/gemma-3-1b-it'].config, 'g3');
    expect(gemma3.layerTypes?.filter((t) => t === 'attention').length).toBe(4); // layers 5, 11, 17, 23
    expect(gemma3.layerTypes?.[5]).toBe('attention');
    expect(gemma3).toMatchObject({ localRopeTheta: 10_000, ropeTheta: 1_000_000, qkNorm: true, slidingWindow: 512 });
    expect(gemma3.attnSoftcap).toBeUndefined();
    const lfm2 = configFromHf(published['LiquidAI/LFM2-1.2B'].config, 'lfm2');
    expect(lfm2.intermediateSize).toBe(8192); // 12288 · 2/3, rounded up to a multiple of 256
    expect(lfm2.layerTypes?.filter((t) => t === 'conv').length).toBe(10);
    expect(lfm2).toMatchObject({ convKernel: 3, tieWordEmbeddings: true, headDim: 64, eosTokenIds: [7] });
    expect(expectedWeights(lfm2).get('model.layers.0.conv.conv.weight')).toEqual([2048, 1, 3]);
    expect(expectedWeights(lfm2).get('model.layers.2.self_attn.out_proj.weight')).toEqual([2048, 2048]);
    const qwen3 = configFromHf(published['Qwen/Qwen3-0.6B'].config, 'q3');
    expect(expectedWeights(qwen3).get('model.layers.0.self_attn.q_norm.weight')).toEqual([128]);
    expect(() => configFromHf({ model_type: 'gemma3', text_config: {} }, 'c.json')).toThrow(/text-only Gemma 3/);
  });
});

/** A tiny model long enough for the sliding windows (3 tokens) to matter. */
function tiny(architecture: (typeof TINY_ARCHITECTURES)[number], dtype: 'F32' | 'BF16' = 'F32') {
  return writeTinyHfModel(path.join(tmpDir(), architecture), {
    architecture,
    dtype,
    numLayers: 3,
    tieWordEmbeddings: architecture !== 'qwen3',
    shards: 1,
  });
}

const TEXT = 'the cat is on the mat, you must see it.';

describe('each architecture: tfjs model against the plain-TypeScript reference', () => {
  for (const architecture of TINY_ARCHITECTURES) {
    it(`${architecture}: config round-trips through config.json and logits match within 1e-4`, async () => {
      const fixture = tiny(architecture);
      const { model, tokenizer } = await loadModel(fixture.folder);
      expect({ hiddenAct: 'silu', ...fixture.config, eosTokenIds: [] }).toEqual({ ...model.config, eosTokenIds: [] });
      const ids = tokenizer.encode(TEXT);
      expect(ids.length).toBeGreaterThan(8);
      const diff = maxAbsDiff(
        modelLogits(model, ids),
        referenceLogits(fixture.config, fixture.weights, ids, { rope: 'half' }),
      );
      expect(diff).toBeLessThan(1e-4);
      model.dispose();
    });
  }

  it('the features are live: without the sliding window, soft-caps or convolution the logits differ', async () => {
    for (const architecture of ['gemma2', 'lfm2'] as const) {
      const fixture = tiny(architecture);
      const ids = [0, 40, 41, 42, 43, 44, 45, 46];
      const ref = referenceLogits(fixture.config, fixture.weights, ids, { rope: 'half' });
      const plain = { ...fixture.config, slidingWindow: undefined, attnSoftcap: undefined, finalSoftcap: undefined };
      if (architecture === 'gemma2')
        expect(maxAbsDiff(ref, referenceLogits(plain, fixture.weights, ids, { rope: 'half' }))).toBeGreaterThan(1e-3);
      else {
        const noConvWeights = new Map(fixture.weights);
        noConvWeights.set(
          'model.layers.0.conv.conv.weight',
          new Float32Array(fixture.weights.get('model.layers.0.conv.conv.weight')!.length),
        );
        expect(maxAbsDiff(ref, referenceLogits(fixture.config, noConvWeights, ids, { rope: 'half' }))).toBeGreaterThan(
          1e-3,
        );
      }
    }
  });

  for (const architecture of ['llama', 'gemma3_text', 'lfm2'] as const) {
    it(`${architecture}: bfloat16 weights kept in 16 bits give the reference's logits and half the memory`, async () => {
      const fixture = tiny(architecture, 'BF16');
      const packed = await loadModel(fixture.folder, { baseDtype: 'bf16' });
      const full = await loadModel(fixture.folder, { baseDtype: 'f32' });
      expect(packed.info.storage).toBe('bf16');
      expect(packed.info.memoryBytes).toBeLessThan(0.6 * full.info.memoryBytes);
      const ids = packed.tokenizer.encode(TEXT);
      const ref = referenceLogits(fixture.config, fixture.weights, ids, { rope: 'half' });
      expect(maxAbsDiff(modelLogits(packed.model, ids), ref)).toBeLessThan(1e-4);
      expect(maxAbsDiff(modelLogits(full.model, ids), ref)).toBeLessThan(1e-4);
      packed.model.dispose();
      full.model.dispose();
    });
  }
});

describe('generation state, checkpointing and packing', () => {
  for (const architecture of ['gemma2', 'lfm2', 'gemma3_text'] as const) {
    it(`${architecture}: one token at a time with the cache (past the window, through the conv state) equals the full pass`, async () => {
      const { model } = await loadModel(tiny(architecture).folder);
      const ids = [0, 50, 51, 52, 80, 81, 100, 7, 9];
      const V = model.config.vocabSize;
      const full = modelLogits(model, ids);
      const cache = new KVCache(model.config.numLayers);
      const parts = [ids.slice(0, 2), ...ids.slice(2).map((t) => [t])];
      let pos = 0;
      for (const part of parts) {
        const step = tf.tidy(() => model.forward(tf.tensor2d(part, [1, part.length], 'int32'), { cache })).dataSync();
        expect(maxAbsDiff(step, full.subarray(pos * V, (pos + part.length) * V))).toBeLessThan(1e-4);
        pos += part.length;
      }
      expect(cache.length).toBe(ids.length);
      cache.dispose();
      model.dispose();
    });
  }

  for (const architecture of ['llama', 'lfm2', 'gemma3_text'] as const) {
    it(`${architecture}: checkpointed layers give the same loss and LoRA gradients, with less kept`, async () => {
      const { model } = await loadModel(tiny(architecture).folder);
      applyLora(model, { r: 2, targetModules: ['q_proj', 'v_proj', 'down_proj', 'in_proj'], seed: 3 });
      // B starts at zero: give it values so every gradient is non-trivial
      for (const [name, v] of model.variables())
        if (name.includes('lora_B')) v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 5));
      const ids = tf.tensor2d([[0, 40, 41, 42, 43, 44, 45, 46, 47, 48]], [1, 10], 'int32');
      const mask = tf.ones([1, 10]) as tf.Tensor2D;
      const vars = [...model.variables().values()];
      const run = (checkpoint: boolean) => {
        const { value, grads } = tf.variableGrads(
          () => answerLoss(model, ids, mask, { training: true, checkpoint }),
          vars,
        );
        const out = {
          loss: value.dataSync()[0],
          grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.dataSync() as Float32Array])),
        };
        tf.dispose([value, ...Object.values(grads)]);
        return out;
      };
      const plain = run(false);
      const ckpt = run(true);
      expect(Math.abs(ckpt.loss - plain.loss)).toBeLessThan(1e-6);
      expect(Object.keys(ckpt.grads).sort()).toEqual(Object.keys(plain.grads).sort());
      for (const k of Object.keys(plain.grads)) expect(maxAbsDiff(ckpt.grads[k], plain.grads[k]), k).toBeLessThan(1e-5);
      // the tables kept for a checkpointed backward pass are freed by the next pass: nothing accumulates
      const short = () => tf.tidy(() => model.forward(tf.tensor2d([[0, 1]], [1, 2], 'int32'))).dispose();
      short();
      const before = tf.memory().numTensors;
      run(true);
      short();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([ids, mask]);
      model.dispose();
    });
  }

  for (const architecture of ['llama', 'gemma2', 'lfm2'] as const) {
    it(`${architecture}: two sequences packed in one row give the logits each has alone`, async () => {
      const { model } = await loadModel(tiny(architecture).folder);
      const a = [0, 40, 41, 42, 43, 44];
      const b = [0, 60, 61, 62, 63];
      const row = [...a, ...b, 2];
      const packing = {
        segments: Int32Array.from([...a.map(() => 0), ...b.map(() => 1), 2]),
        positions: Int32Array.from([...a.map((_, i) => i), ...b.map((_, i) => i), 0]),
      };
      const packed = tf.tidy(() => model.forward(tf.tensor2d(row, [1, row.length], 'int32'), { packing })).dataSync();
      const V = model.config.vocabSize;
      expect(maxAbsDiff(packed.subarray(0, a.length * V), modelLogits(model, a))).toBeLessThan(1e-4);
      expect(maxAbsDiff(packed.subarray(a.length * V, (a.length + b.length) * V), modelLogits(model, b))).toBeLessThan(
        1e-4,
      );
      model.dispose();
    });
  }

  it('layer types come from the config', () => {
    const c = configFromHf(published['LiquidAI/LFM2-1.2B'].config, 'lfm2');
    expect([0, 1, 2].map((l) => layerType(c, l))).toEqual(['conv', 'conv', 'attention']);
    void (undefined as unknown as Rng);
  });
});
