import { Rng, tf, useBackend } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import { applyLora } from '../src/lora/lora.js';
import { type LlamaConfig, PROJECTIONS } from '../src/model/config.js';
import { generate } from '../src/model/generate.js';
import { expectedWeights } from '../src/model/layout.js';
import { LlamaModel } from '../src/model/llama.js';
import { crossEntropyRows } from '../src/train/cross-entropy.js';

/**
 * On webgpu the decoder runs core's fused kernels (RMSNorm, SwiGLU, RoPE + causal GQA attention,
 * Lion/Adam); everywhere else tfjs ops. The same LoRA model must give the same logits and gradients.
 * Runs on Mesa llvmpipe in CI; INTRODL_WEBGPU_TESTS=0 skips it where WebGPU has no adapter.
 */
const config: LlamaConfig = {
  architecture: 'llama2c',
  vocabSize: 64,
  hiddenSize: 32,
  intermediateSize: 48,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 8,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  maxPositions: 64,
  tieWordEmbeddings: true,
  attentionBias: false,
  bosTokenId: 1,
  eosTokenIds: [],
};

/**
 * Qwen2/3-like: q/k/v biases, per-head q/k norms, untied output head, one KV head, a hidden size
 * over 64 (the kernels' tile); and Gemma-like: GELU, norm offset (its norm weights near 0, not 1),
 * embedding scale.
 */
const variants: [string, LlamaConfig, { checkpoint?: boolean }?][] = [
  ['llama2c', config],
  ['llama2c, checkpointed layers (recomputed in the backward pass)', config, { checkpoint: true }],
  [
    'biases, q/k norms, untied head, hidden 80',
    {
      ...config,
      architecture: 'llama',
      hiddenSize: 80,
      intermediateSize: 136,
      numHeads: 5,
      numKvHeads: 1,
      headDim: 16,
      attentionBias: true,
      qkNorm: true,
      tieWordEmbeddings: false,
    },
  ],
  ['GELU, norm offset, embedding scale', { ...config, hiddenAct: 'gelu_tanh', normOffset: 1, embedScale: 5.5 }],
];

/** Σ logits·r and its gradient for every LoRA variable, on `backend`. */
async function lossAndGradients(
  config: LlamaConfig,
  backend: 'cpu' | 'webgpu',
  options: { checkpoint?: boolean } = {},
): Promise<Float32Array[]> {
  await useBackend(backend);
  const rng = new Rng(1);
  const weights = new Map<string, tf.Tensor>();
  for (const [name, shape] of expectedWeights(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const scale = name.endsWith('norm.weight') ? 0.1 : 0.2;
    const base = name.endsWith('norm.weight') && !config.normOffset ? 1 : 0;
    weights.set(
      name,
      tf.tensor(
        Float32Array.from({ length: n }, () => base + scale * rng.normal()),
        shape,
      ),
    );
  }
  const model = new LlamaModel(config, weights);
  applyLora(model, { r: 4, alpha: 8, targetModules: PROJECTIONS, seed: 1 });
  const vars = [...model.variables().values()];
  // LoRA's B starts at zero; move every adapter off it so every gradient path carries signal.
  for (const v of vars)
    v.assign(
      tf.tensor(
        Float32Array.from({ length: v.size }, () => 0.05 * rng.normal()),
        v.shape,
      ),
    );
  const ids = tf.tensor2d(
    Array.from({ length: 2 * 24 }, (_, i) => (i * 7) % 64),
    [2, 24],
    'int32',
  );
  const r = tf.tensor(
    Float32Array.from({ length: 2 * 24 * 64 }, () => rng.normal()),
    [2, 24, 64],
  );
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(model.forward(ids, options), r)) as tf.Scalar, vars);
  const out = [await value.data(), ...(await Promise.all(vars.map((v) => grads[v.name].data())))] as Float32Array[];
  tf.dispose([value, ids, r, ...Object.values(grads)]);
  // Greedy decoding with the KV cache (core's cachedAttention on webgpu): the tokens, as numbers.
  const { tokens } = await generate(model, [1, 5, 9, 13], { maxNewTokens: 8, temperature: 0 });
  out.push(Float32Array.from(tokens));
  model.dispose();
  return out;
}

describe.runIf(process.env.INTRODL_WEBGPU_TESTS !== '0')('Lab 3 decoder with fused WebGPU kernels', () => {
  it.each(variants)(
    '%s: gives the cpu backend’s loss and LoRA gradients within 1e-4, and its greedy tokens with the KV cache',
    async (_, config, options) => {
      const want = await lossAndGradients(config, 'cpu', options);
      const got = await lossAndGradients(config, 'webgpu', options);
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        let diff = 0;
        let scale = 1e-12;
        for (let j = 0; j < want[i].length; j++) {
          diff = Math.max(diff, Math.abs(got[i][j] - want[i][j]));
          scale = Math.max(scale, Math.abs(want[i][j]));
        }
        expect(diff / scale, `result ${i}`).toBeLessThanOrEqual(1e-4);
      }
    },
  );

  it('per-token cross-entropy (core’s fused kernel on webgpu) gives the cpu kernels’ losses and dlogits within 1e-4', async () => {
    const rng = new Rng(3);
    const [N, V] = [7, 300];
    const values = Float32Array.from({ length: N * V }, () => 3 * rng.normal());
    const weights = Float32Array.from({ length: N }, () => rng.normal());
    const run = async (backend: 'cpu' | 'webgpu') => {
      await useBackend(backend);
      const logits = tf.variable(tf.tensor2d(values, [N, V]), true, `xent-${backend}`);
      const targets = tf.tensor1d([0, 299, 17, 5, 5, 123, 250], 'int32');
      const w = tf.tensor1d(weights);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(crossEntropyRows(logits as tf.Tensor2D, targets), w)) as tf.Scalar,
        [logits],
      );
      const out = [await value.data(), await grads[logits.name].data()] as Float32Array[];
      tf.dispose([logits, targets, w, value, ...Object.values(grads)]);
      return out;
    };
    const want = await run('cpu');
    const got = await run('webgpu');
    for (let i = 0; i < want.length; i++) {
      let diff = 0;
      let scale = 1e-12;
      for (let j = 0; j < want[i].length; j++) {
        diff = Math.max(diff, Math.abs(got[i][j] - want[i][j]));
        scale = Math.max(scale, Math.abs(want[i][j]));
      }
      expect(diff / scale, `result ${i}`).toBeLessThanOrEqual(1e-4);
    }
  });
});
