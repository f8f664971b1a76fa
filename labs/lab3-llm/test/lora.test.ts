import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, readSafetensors, tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  applyLora,
  countParameters,
  formatTrainableParameters,
  loadAdapter,
  loadModel,
  loraLayers,
  mergeLora,
  PROJECTIONS,
  parseTargets,
  projectionShape,
  removeLora,
  saveAdapter,
  unmergeLora,
  writeTinyHfModel,
  writeTinyLlama2c,
} from '../src/index.js';
import { maxAbsDiff, modelLogits, tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

const ids = [0, 40, 77, 120, 9, 200, 33];

/** Gives every adapter a random B so the update is not zero. */
function randomizeB(model: Parameters<typeof loraLayers>[0], seed = 3) {
  for (const layer of loraLayers(model)) layer.B.assign(tf.randomNormal(layer.B.shape, 0, 0.2, 'float32', seed++));
}

describe('LoRA', () => {
  it("prints trainable parameters exactly as PEFT does (Gemma-2-2B's numbers)", () => {
    expect(formatTrainableParameters({ trainable: 10_383_360, all: 2_624_725_248 })).toBe(
      'trainable params: 10,383,360 || all params: 2,624,725,248 || trainable%: 0.3956',
    );
  });

  it('counts r·(in + out) per adapted projection and layer; starts as the base model (B = 0)', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'), { numKvHeads: 2 });
    const { model } = await loadModel(tiny.folder);
    const before = modelLogits(model, ids);
    applyLora(model, { r: 2, targetModules: PROJECTIONS, seed: 1 });
    let expected = 0;
    for (const p of PROJECTIONS) {
      const [out, inF] = projectionShape(model.config, p);
      expected += model.config.numLayers * 2 * (out + inF);
    }
    const counts = countParameters(model);
    expect(counts.trainable).toBe(expected);
    expect(counts.all).toBe(model.parameterCount().base + expected);
    expect(modelLogits(model, ids)).toEqual(before);
    model.dispose();
  });

  it('merge gives the same logits as the unmerged adapters; unmerge restores the base weights', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const { model } = await loadModel(tiny.folder);
    const wq = model.weight('model.layers.0.self_attn.q_proj.weight').dataSync().slice();
    applyLora(model, { r: 4, alpha: 16, targetModules: parseTargets('q,v,down'), seed: 2 });
    randomizeB(model);
    const adapted = modelLogits(model, ids);
    mergeLora(model);
    const merged = modelLogits(model, ids);
    expect(maxAbsDiff(merged, adapted)).toBeLessThan(1e-5);
    expect(maxAbsDiff(model.weight('model.layers.0.self_attn.q_proj.weight').dataSync(), wq)).toBeGreaterThan(1e-3);
    unmergeLora(model);
    expect(maxAbsDiff(model.weight('model.layers.0.self_attn.q_proj.weight').dataSync(), wq)).toBeLessThan(1e-6);
    expect(maxAbsDiff(modelLogits(model, ids), adapted)).toBeLessThan(1e-5);
    removeLora(model);
    expect(model.adapters.size).toBe(0);
    model.dispose();
  });

  it('round-trips through adapter_model.safetensors with PEFT names and shapes: identical logits', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const { model } = await loadModel(tiny.folder);
    applyLora(model, { r: 3, alpha: 6, targetModules: PROJECTIONS, seed: 4 });
    randomizeB(model);
    const adapted = modelLogits(model, ids);
    const dir = path.join(tmpDir(), 'adapter');
    saveAdapter(model, dir, 'tiny-base');
    model.dispose();

    const file = readSafetensors(path.join(dir, ADAPTER_WEIGHTS)).tensors;
    const h = tiny.config.hiddenSize;
    expect(file.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')?.shape).toEqual([3, h]);
    expect(file.get('base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight')?.shape).toEqual([h, 3]);
    expect(file.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')?.shape).toEqual([
      3,
      tiny.config.intermediateSize,
    ]);
    expect(file.size).toBe(2 * 7 * tiny.config.numLayers);
    const config = JSON.parse(readFileSync(path.join(dir, ADAPTER_CONFIG), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 3,
      lora_alpha: 6,
      bias: 'none',
      base_model_name_or_path: 'tiny-base',
    });
    expect(config.target_modules.sort()).toEqual([...PROJECTIONS].sort());

    const again = await loadModel(tiny.folder, { adapter: dir });
    expect(modelLogits(again.model, ids)).toEqual(adapted);
    again.model.dispose();
  });

  it('llama2.c models take adapters too (their q/k are stored in the rotate-half order)', async () => {
    const tiny = writeTinyLlama2c(tmpDir());
    const { model } = await loadModel(tiny.modelPath);
    applyLora(model, { r: 2, targetModules: ['q_proj', 'k_proj'], seed: 5 });
    randomizeB(model);
    const adapted = modelLogits(model, [1, 300, 301]);
    const dir = path.join(tmpDir(), 'a');
    saveAdapter(model, dir);
    model.dispose();
    const again = await loadModel(tiny.modelPath, { adapter: dir });
    expect(modelLogits(again.model, [1, 300, 301])).toEqual(adapted);
    again.model.dispose();
  });

  it('refuses an adapter made for another model: other shapes, more layers, same shapes but other weights', async () => {
    const a = writeTinyHfModel(path.join(tmpDir(), 'a'), { seed: 1 });
    const wider = writeTinyHfModel(path.join(tmpDir(), 'b'), { seed: 1, intermediateSize: 40 });
    const twin = writeTinyHfModel(path.join(tmpDir(), 'c'), { seed: 9 });
    const deeper = writeTinyHfModel(path.join(tmpDir(), 'd'), { seed: 1, numLayers: 3 });
    const lm = await loadModel(deeper.folder);
    applyLora(lm.model, { r: 2, targetModules: ['q_proj', 'down_proj'] });
    const dir = path.join(tmpDir(), 'adapter');
    saveAdapter(lm.model, dir);
    lm.model.dispose();
    await expect(loadModel(a.folder, { adapter: dir })).rejects.toThrow(/layer 2 but the model has 2 layers/);

    const small = await loadModel(a.folder);
    applyLora(small.model, { r: 2, targetModules: ['down_proj'] });
    const dir2 = path.join(tmpDir(), 'adapter2');
    saveAdapter(small.model, dir2);
    small.model.dispose();
    await expect(loadModel(wider.folder, { adapter: dir2 })).rejects.toThrow(
      /down_proj of layer 0 has lora_A \[2,24\].*needs \[2, 40\]/,
    );
    const err = await loadModel(twin.folder, { adapter: dir2 }).catch((e) => e);
    expect(err).toBeInstanceOf(BadFileError);
    expect(err.message).toMatch(/adapter_model\.safetensors: was trained on another base model/);
  });

  it('rejects adapter files that are not LoRA', async () => {
    const tiny = writeTinyHfModel(path.join(tmpDir(), 'm'));
    const { model } = await loadModel(tiny.folder);
    applyLora(model, { r: 2, targetModules: ['v_proj'] });
    const dir = path.join(tmpDir(), 'adapter');
    saveAdapter(model, dir);
    const cfg = path.join(dir, ADAPTER_CONFIG);
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), peft_type: 'IA3' }));
    expect(() => loadAdapter(model, dir)).toThrow(/peft_type is IA3/);
    writeFileSync(cfg, '{not json');
    expect(() => loadAdapter(model, dir)).toThrow(/adapter_config\.json: is not valid JSON/);
    model.dispose();
  });

  it('parses target lists', () => {
    expect(parseTargets('q,k,v,o')).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    expect(parseTargets('all')).toEqual([...PROJECTIONS, 'in_proj', 'conv_out_proj']);
    expect(parseTargets('w1,w3,w2,out_proj,in')).toEqual(['gate_proj', 'up_proj', 'down_proj', 'o_proj', 'in_proj']);
    expect(() => parseTargets('q,w9')).toThrow(/unknown LoRA target "w9"/);
  });
});
