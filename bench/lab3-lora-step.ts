/**
 * bench/lab3-lora-step: Lab 3 at scale with random weights — build the model, generate with the KV
 * cache, and take LoRA training steps (r = 8 on all seven projections, Lion, loss on every token),
 * for stories260K's shapes (CPU) and Llama-3.2-1B's (GPU: hidden 2048, 16 layers, 32 heads, 8 KV
 * heads, vocab 128256). Reports tokens per second and peak memory.
 *   npx tsx bench/lab3-lora-step.ts --backends webgpu --config llama-3.2-1b [--seq 256] [--repeats 5]
 *   npx tsx bench/lab3-lora-step.ts --backends wasm,cpu --config stories260k
 * On webgpu the LoRA step is measured twice, with stock tfjs kernels (`-stock`, INTRODL_WEBGPU_FUSED=0)
 * and with core's fused kernels, each entry with the GPU dispatches, uploads and readbacks of one
 * step (`gpu`) and `dispatchesPerLayer`; `lab3-generate`'s `gpu` is the work per generated token.
 * `--skip-generate` measures the training step only.
 * Writes bench/results/lab3-lora-step.json.
 */
import { parseArgs } from 'node:util';
import { Lion, optimizerStep, tf } from '@introdl/core';
import { applyLora, countParameters } from '../labs/lab3-llm/dist/lora/lora.js';
import { type LlamaConfig, PROJECTIONS } from '../labs/lab3-llm/dist/model/config.js';
import { generate } from '../labs/lab3-llm/dist/model/generate.js';
import { expectedWeights } from '../labs/lab3-llm/dist/model/layout.js';
import { LlamaModel } from '../labs/lab3-llm/dist/model/llama.js';
// The lab's modules one by one rather than its index: the index also loads the Hugging Face
// tokenizer (transformers.js and its native image library), which a GPU host's bundle cannot load.
import { answerLoss } from '../labs/lab3-llm/dist/train/sft.js';
import { type BenchEntry, benchArgs, countGpu, type GpuCounts, measure, report, tryBackend } from './lib/harness.js';

const CONFIGS: Record<string, LlamaConfig> = {
  stories260k: {
    architecture: 'llama2c',
    vocabSize: 512,
    hiddenSize: 64,
    intermediateSize: 172,
    numLayers: 5,
    numHeads: 8,
    numKvHeads: 4,
    headDim: 8,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositions: 512,
    tieWordEmbeddings: true,
    attentionBias: false,
    bosTokenId: 1,
    eosTokenIds: [],
  },
  'llama-3.2-1b': {
    architecture: 'llama',
    vocabSize: 128256,
    hiddenSize: 2048,
    intermediateSize: 8192,
    numLayers: 16,
    numHeads: 32,
    numKvHeads: 8,
    headDim: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 500000,
    ropeScaling: { type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
    maxPositions: 4096,
    tieWordEmbeddings: true,
    attentionBias: false,
    bosTokenId: 128000,
    eosTokenIds: [],
  },
};

const args = benchArgs(['wasm']);
const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    seq: { type: 'string' },
    'new-tokens': { type: 'string' },
    'skip-generate': { type: 'boolean' },
  },
  strict: false,
});
const configName = String(values.config ?? 'stories260k');
const config = CONFIGS[configName];
if (!config) throw new Error(`--config must be one of ${Object.keys(CONFIGS).join(', ')}`);
const seq = Number(values.seq ?? (configName === 'stories260k' ? 512 : 256));
const newTokens = Number(values['new-tokens'] ?? 64);
const entries: BenchEntry[] = [];

for (const name of args.backends) {
  const sel = await tryBackend(name);
  if (!sel) continue;
  // Random weights made on the device, one tensor at a time (no host copy of the model).
  const t0 = performance.now();
  const weights = new Map<string, tf.Tensor>();
  for (const [w, shape] of expectedWeights(config)) {
    weights.set(w, w.endsWith('norm.weight') ? tf.ones(shape) : tf.randomNormal(shape, 0, 0.02, 'float32', 1));
  }
  const model = new LlamaModel(config, weights);
  applyLora(model, { r: 8, alpha: 8, targetModules: PROJECTIONS, seed: 1 });
  await model.weight('model.norm.weight').data();
  const buildSeconds = (performance.now() - t0) / 1000;
  const counts = countParameters(model);
  const params = {
    config: configName,
    parameters: counts.all,
    trainable: counts.trainable,
    seq,
    buildSeconds,
    tfBytes: tf.memory().numBytes,
  };

  // generation: 32-token prompt, then newTokens greedy tokens with the KV cache
  const prompt = Array.from({ length: 32 }, (_, i) => (i * 97) % config.vocabSize);
  let last = { promptSeconds: 0, generateSeconds: 0, tokens: [] as number[] };
  const gen = values['skip-generate']
    ? undefined
    : await measure(
        async () => {
          last = await generate(model, prompt, { maxNewTokens: newTokens, temperature: 0 });
        },
        { warmup: 1, repeats: args.repeats ?? 3 },
      );
  // GPU work per generated token: (16 tokens − 8 tokens) / 8, so the prompt pass cancels out.
  const perToken = async (): Promise<GpuCounts | undefined> => {
    const few = await countGpu(() => generate(model, prompt, { maxNewTokens: 8, temperature: 0 }));
    const more = await countGpu(() => generate(model, prompt, { maxNewTokens: 16, temperature: 0 }));
    if (!few || !more) return undefined;
    const out = { ...more };
    for (const key of Object.keys(out) as (keyof GpuCounts)[]) out[key] = (more[key] - few[key]) / 8;
    return out;
  };
  const genGpu = gen ? await perToken() : undefined;
  if (gen) {
    entries.push({
      workload: 'lab3-generate',
      impl: `tfjs-${name}`,
      backend: name,
      device: sel.detail,
      params: { ...params, prompt: prompt.length, newTokens },
      ...gen,
      ...(genGpu ? { gpu: genGpu } : {}),
      throughput: { value: (last.tokens.length - 1) / last.generateSeconds, unit: 'tokens/s' },
    });
  }

  // one LoRA step on a [1, seq] sequence
  const vars = model.variables();
  const optimizer = new Lion(1e-4);
  const ids = tf.tensor2d(
    Array.from({ length: seq }, (_, i) => (i * 31) % config.vocabSize),
    [1, seq],
    'int32',
  );
  const mask = tf.ones([1, seq]) as tf.Tensor2D;
  const step = async () => {
    const loss = optimizerStep(vars, optimizer, () => answerLoss(model, ids, mask, { training: true }));
    await loss.data();
    loss.dispose();
  };
  // On webgpu: stock tfjs kernels first (the "before" of fusion), then core's fused kernels.
  for (const stock of name === 'webgpu' ? [true, false] : [false]) {
    if (stock) process.env.INTRODL_WEBGPU_FUSED = '0';
    const train = await measure(step, { warmup: args.warmup ?? 1, repeats: args.repeats ?? 3 });
    const gpu = await countGpu(step);
    if (stock) delete process.env.INTRODL_WEBGPU_FUSED;
    entries.push({
      workload: 'lab3-lora-step',
      impl: `tfjs-${name}${stock ? '-stock' : ''}`,
      backend: name,
      device: sel.detail,
      params: {
        ...params,
        batch: 1,
        rank: 8,
        targets: 'all',
        optimizer: 'lion',
        ...(gpu ? { dispatchesPerLayer: gpu.dispatches / config.numLayers } : {}),
      },
      ...train,
      throughput: { value: seq / (train.medianMs / 1000), unit: 'tokens/s' },
      ...(gpu ? { gpu } : {}),
    });
  }
  model.dispose();
  optimizer.dispose();
  tf.dispose([ids, mask]);
}
report('lab3-lora-step', entries, args.out);
process.exit(0);
