import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { checkOnnxFiles, maxRelativeDifference, pythonWithOnnx, Rng, tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportLanguageModel } from '../src/export/export-model.js';
import { OnnxCausalLM } from '../src/export/onnx-language-model.js';
import {
  applyLora,
  chooseTemplate,
  HfTokenizer,
  jinjaTemplate,
  Llama2cTokenizer,
  type LlamaModel,
  loadModel,
  loraLayers,
  PLAIN_TEMPLATE,
  PROJECTIONS,
  saveAdapter,
  writeTinyHfModel,
  writeTinyLlama2c,
} from '../src/index.js';
import { modelLogits, tmpDir, useCpu } from './helpers.js';

/**
 * `introdl lab3 export`: the exported ONNX graph computes the tfjs model's logits (with and without
 * the KV cache), onnx.checker accepts it, a safetensors export loads back, and on the real
 * stories260K + a LoRA adapter transformers.js (local files only) generates exactly what
 * `introdl lab3 generate --temperature 0` generates.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../../../packages/cli/dist/bin.js');
const dataDir = process.env.INTRODL_DATA && path.join(process.env.INTRODL_DATA, 'lab3-llm');
const stories = dataDir && existsSync(path.join(dataDir, 'stories260K.bin')) ? dataDir : undefined;

beforeAll(useCpu);

/** A LoRA adapter on every projection with non-zero B, so merging changes the outputs. */
function randomAdapter(model: LlamaModel, dir: string, base: string, seed: number): string {
  applyLora(model, { r: 4, alpha: 8, targetModules: PROJECTIONS, seed });
  const rng = new Rng(seed);
  for (const layer of loraLayers(model)) {
    const b = Float32Array.from({ length: layer.B.size }, () => (rng.next() * 2 - 1) * 0.2);
    layer.B.assign(tf.tensor2d(b, layer.B.shape as [number, number]));
  }
  saveAdapter(model, dir, base);
  return dir;
}

describe('lab3 export --format onnx (tiny llama2.c model with a LoRA adapter)', () => {
  const tiny = writeTinyLlama2c(tmpDir(), { hiddenSize: 32 });
  const out = path.join(tmpDir(), 'onnx-model');
  let adapter: string;

  beforeAll(async () => {
    const lm = await loadModel(tiny.modelPath);
    adapter = randomAdapter(lm.model, path.join(tmpDir(), 'adapter'), tiny.modelPath, 7);
    lm.model.dispose();
    await exportLanguageModel({ model: tiny.modelPath, adapter, format: 'onnx', out });
  });

  it('writes the Hugging Face folder layout with the chat template', () => {
    for (const f of [
      'onnx/model.onnx',
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ])
      expect(existsSync(path.join(out, f)), f).toBe(true);
    const config = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'llama', num_key_value_heads: tiny.config.numKvHeads });
    const tokConfig = JSON.parse(readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8'));
    expect(tokConfig.chat_template).toContain('Question: ');
  });

  it('the chat template renders as the built-in one and is recognised as it (same stop text)', async () => {
    const tokenizer = await HfTokenizer.load(out);
    const jinja = jinjaTemplate(tokenizer.chatTemplate as string, tokenizer.specialTokens);
    expect(jinja.withoutAnswer('Why?')).toBe(PLAIN_TEMPLATE.withoutAnswer('Why?'));
    expect(jinja.withAnswer('Why?', 'Because.')).toBe(PLAIN_TEMPLATE.withAnswer('Why?', 'Because.'));
    expect(chooseTemplate('auto', tokenizer)).toBe(PLAIN_TEMPLATE);
  });

  it('gives the logits of the tfjs model with the adapter (max relative difference ≤ 1e-4), with and without the cache', async () => {
    const lm = await loadModel(tiny.modelPath, { adapter });
    const onnx = await OnnxCausalLM.load(out);
    const ids = lm.tokenizer.encode('the cat sat on the mat');
    const want = modelLogits(lm.model, ids);
    const full = await onnx.logits(ids);
    const rel = maxRelativeDifference(full, want);
    console.log(`lab3 tiny llama + LoRA: ONNX vs tfjs logits, max relative difference ${rel.toExponential(2)}`);
    expect(rel).toBeLessThanOrEqual(1e-4);
    // Prompt in one call, then one token at a time through past_key_values / present.
    const V = lm.model.config.vocabSize;
    const cache = new Map();
    const split = 3;
    const first = await onnx.step(ids.slice(0, split), cache);
    expect(maxRelativeDifference(first, want.subarray((split - 1) * V, split * V))).toBeLessThanOrEqual(1e-4);
    for (let t = split; t < ids.length; t++) {
      const step = await onnx.step([ids[t]], cache);
      expect(maxRelativeDifference(step, want.subarray(t * V, (t + 1) * V))).toBeLessThanOrEqual(1e-4);
    }
    onnx.dispose();
    lm.model.dispose();
  });

  it('refuses an --out folder that holds files, and leaves it as it was', async () => {
    await expect(exportLanguageModel({ model: tiny.modelPath, format: 'onnx', out })).rejects.toThrow(/not empty/);
    expect(existsSync(path.join(out, 'onnx', 'model.onnx'))).toBe(true);
  });

  it('--format safetensors writes a Hugging Face folder this lab loads back with the same logits', async () => {
    const dir = path.join(tmpDir(), 'st-model');
    await exportLanguageModel({ model: tiny.modelPath, adapter, format: 'safetensors', out: dir });
    const merged = await loadModel(dir);
    const lm = await loadModel(tiny.modelPath, { adapter });
    const ids = lm.tokenizer.encode('a dog');
    expect(merged.tokenizer.encode('a dog')).toEqual(ids);
    expect(maxRelativeDifference(modelLogits(merged.model, ids), modelLogits(lm.model, ids))).toBeLessThanOrEqual(1e-5);
    merged.model.dispose();
    lm.model.dispose();
  });

  it.runIf(pythonWithOnnx())('passes onnx.checker.check_model (full check)', () => {
    const [r] = checkOnnxFiles([path.join(out, 'onnx', 'model.onnx')]);
    expect(r.ok, r.message).toBe(true);
  });
});

describe('lab3 export of Hugging Face folders', () => {
  it('a Qwen2-style model (q/k/v biases, untied head, grouped KV heads) gives the tfjs logits', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'qwen2'), {
      architecture: 'qwen2',
      tieWordEmbeddings: false,
      numHeads: 4,
      numKvHeads: 2,
    });
    const out = path.join(tmpDir(), 'qwen2-onnx');
    await exportLanguageModel({ model: tiny.folder, format: 'onnx', out });
    const lm = await loadModel(tiny.folder);
    const onnx = await OnnxCausalLM.load(out);
    const ids = lm.tokenizer.encode('hello there you');
    expect(maxRelativeDifference(await onnx.logits(ids), modelLogits(lm.model, ids))).toBeLessThanOrEqual(1e-4);
    onnx.dispose();
    lm.model.dispose();
  });

  it('refuses architectures the graph does not compute (Gemma 2), with a clear error', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'gemma2'), { architecture: 'gemma2' });
    await expect(
      exportLanguageModel({ model: tiny.folder, format: 'onnx', out: path.join(tmpDir(), 'g') }),
    ).rejects.toThrow(/Llama-family decoder.*gemma2/);
  });
});

describe.skipIf(!stories)('stories260K + LoRA exported, run by transformers.js (INTRODL_DATA/lab3-llm)', () => {
  const out = path.join(tmpDir(), 'stories-onnx');
  let adapter: string;
  const prompts = ['Once upon a time, there was a', 'Lily and Ben went to the park. They saw'];

  beforeAll(async () => {
    const lm = await loadModel('stories260K');
    adapter = randomAdapter(lm.model, path.join(tmpDir(), 'stories-adapter'), 'stories260K', 3);
    lm.model.dispose();
    await exportLanguageModel({ model: 'stories260K', adapter, format: 'onnx', out });
  });

  it('tokenizer.json encodes as tok512.bin does, token for token', async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    const hf = await AutoTokenizer.from_pretrained(out, { local_files_only: true });
    const tok = Llama2cTokenizer.load(path.join(stories as string, 'tok512.bin'), 512);
    const texts = [
      ...prompts,
      'Hello,  world!\n\tTabs, "quotes" and émoji 🤖 fall back to bytes.',
      ...readFileSync(path.join(stories as string, 'yoda_test_text.txt'), 'utf8')
        .split(/(?<=[.!?])\s+/)
        .slice(0, 200),
    ];
    for (const text of texts) expect(hf.encode(text), text).toEqual(tok.encode(text));
  });

  it('greedy continuations of two prompts equal `introdl lab3 generate --temperature 0`, token for token', async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = path.dirname(out);
    const name = path.basename(out);
    const tokenizer = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
    const model = await AutoModelForCausalLM.from_pretrained(name, { local_files_only: true, dtype: 'fp32' });
    for (const prompt of prompts) {
      const inputs = tokenizer(prompt);
      const output = (await model.generate({ ...inputs, max_new_tokens: 40, do_sample: false })) as tf.TensorLike & {
        data: BigInt64Array;
        dims: number[];
      };
      const all = Array.from(output.data, Number);
      const promptLength = inputs.input_ids.dims[1];
      const fromTransformersJs = all.slice(promptLength);

      const runDir = path.join(tmpDir(), 'generate');
      await promisify(execFile)(
        process.execPath,
        [
          bin,
          'lab3',
          'generate',
          '--model',
          'stories260K',
          '--adapter',
          adapter,
          '--prompt',
          prompt,
          '--temperature',
          '0',
          '--max-tokens',
          '40',
          '--backend',
          'cpu',
          '--out',
          runDir,
        ],
        { env: process.env, timeout: 120_000 },
      );
      const generated = JSON.parse(readFileSync(path.join(runDir, 'outputs', 'generation.json'), 'utf8'));
      expect(generated.promptIds).toEqual(all.slice(0, promptLength));
      expect(fromTransformersJs).toEqual(generated.tokens);
      console.log(`transformers.js = introdl lab3 generate on "${prompt}": ${generated.tokens.length} tokens equal`);
    }
    await model.dispose();
  });

  it.runIf(pythonWithOnnx())('the stories260K export passes onnx.checker.check_model', () => {
    const [r] = checkOnnxFiles([path.join(out, 'onnx', 'model.onnx')]);
    expect(r.ok, r.message).toBe(true);
  });

  it('introdl lab3 generate --runtime onnx on the export gives the same tokens', async () => {
    const runs = await Promise.all(
      ['tfjs', 'onnx'].map(async (runtime) => {
        const runDir = path.join(tmpDir(), runtime);
        const model = runtime === 'onnx' ? out : 'stories260K';
        const args = ['lab3', 'generate', '--model', model, '--runtime', runtime, '--prompt', prompts[0]];
        if (runtime === 'tfjs') args.push('--adapter', adapter);
        await promisify(execFile)(
          process.execPath,
          [
            bin,
            ...args,
            '--temperature',
            '0.8',
            '--seed',
            '5',
            '--max-tokens',
            '30',
            '--backend',
            'cpu',
            '--out',
            runDir,
          ],
          { env: process.env, timeout: 120_000 },
        );
        return JSON.parse(readFileSync(path.join(runDir, 'outputs', 'generation.json'), 'utf8')).tokens;
      }),
    );
    expect(runs[1]).toEqual(runs[0]);
  });
});
