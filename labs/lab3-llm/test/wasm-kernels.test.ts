import path from 'node:path';
import { nativeAddon, tf, useBackend } from '@introdl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossEntropyRows, loadModel, referenceLogits, writeTinyHfModel } from '../src/index.js';
import { maxAbsDiff, modelLogits, tmpDir } from './helpers.js';

/**
 * Lab 3's own kernels on the wasm backend (the CPU backend students train on), where they read and
 * write the wasm heap — through the native addon's sgemmPacked when it is built (CI builds it), in
 * JavaScript otherwise.
 */
beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('wasm: 16-bit weights and the fused cross-entropy', () => {
  it('bfloat16 matrices give the reference logits (native sgemmPacked when built), one row at a time too', async () => {
    // CI builds the addon (INTRODL_NATIVE_REQUIRED=1): there this test must run the native path.
    if (process.env.INTRODL_NATIVE_REQUIRED === '1') expect(nativeAddon()?.sgemmPacked).toBeTypeOf('function');
    const fixture = writeTinyHfModel(path.join(tmpDir(), 'm'), {
      dtype: 'BF16',
      architecture: 'qwen3',
      numLayers: 2,
      tieWordEmbeddings: false,
    });
    const { model, info } = await loadModel(fixture.folder, { baseDtype: 'bf16' });
    expect(info.storage).toBe('bf16');
    const ids = [0, 40, 41, 42, 43, 44, 7, 9];
    const ref = referenceLogits(fixture.config, fixture.weights, ids, { rope: 'half' });
    expect(maxAbsDiff(modelLogits(model, ids), ref)).toBeLessThan(1e-4);
    // a single row: the small-M path (fused AVX2 dot natively)
    const V = fixture.config.vocabSize;
    expect(maxAbsDiff(modelLogits(model, ids.slice(0, 1)), ref.subarray(0, V))).toBeLessThan(1e-4);
    model.dispose();
  });

  it('cross-entropy values and gradients equal autodiff of the textbook formula', () => {
    const logits = tf.randomNormal([9, 300], 0, 3, 'float32', 4) as tf.Tensor2D;
    const targets = tf.tensor1d([0, 299, 5, 5, 17, 100, 1, 2, 3], 'int32');
    const w = tf.tensor1d([1, 0, 2, 1, 1, 0.5, 1, 3, 1]);
    const textbook = (x: tf.Tensor2D) =>
      tf.sum(tf.mul(tf.sub(tf.logSumExp(x, -1), tf.sum(tf.mul(x, tf.oneHot(targets, 300)), -1)), w)) as tf.Scalar;
    const ours = (x: tf.Tensor2D) => tf.sum(tf.mul(crossEntropyRows(x, targets), w)) as tf.Scalar;
    const a = tf.valueAndGrad(textbook)(logits);
    const b = tf.valueAndGrad(ours)(logits);
    expect(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0])).toBeLessThan(1e-3);
    expect(maxAbsDiff(a.grad.dataSync(), b.grad.dataSync())).toBeLessThan(1e-5);
    tf.dispose([logits, targets, w, a.value, a.grad, b.value, b.grad]);
  });
});
