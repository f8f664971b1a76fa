import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  BadFileError,
  MissingFileError,
  type RawTensor,
  SafetensorsFile,
  tf,
  writeFileAtomicSync,
  writeSafetensors,
} from '@introdl/core';
import { finalNormName, linearModules, type Projection } from '../model/config.js';
import type { LlamaModel } from '../model/llama.js';
import { toBf16 } from '../model/packed.js';
import { applyLora, loraLayers, removeLora } from './lora.js';

export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
export const ADAPTER_CONFIG = 'adapter_config.json';

/** The adapter_config.json PEFT writes for a LoRA adapter on a causal LM. */
export function peftAdapterConfig(
  r: number,
  alpha: number,
  dropout: number,
  targets: readonly string[],
  baseModel: string,
): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: alpha,
    lora_dropout: dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r,
    rank_pattern: {},
    revision: null,
    target_modules: [...targets],
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

/**
 * A fingerprint of the base model: its shapes and a sample of weights LoRA never changes (the
 * first embedding rows and the final norm). Stored in the adapter file's metadata, which PEFT
 * ignores, it lets a load refuse an adapter trained on another model of the same shapes.
 */
export function modelFingerprint(model: LlamaModel): string {
  const c = model.config;
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify([c.vocabSize, c.hiddenSize, c.intermediateSize, c.numLayers, c.numHeads, c.numKvHeads, c.headDim]),
  );
  // Values rounded to bfloat16, so the same model stored in float32 or in 16 bits has one fingerprint.
  const sample = toBf16(model.embeddingRows([0, 1, 2, 3].filter((i) => i < c.vocabSize)));
  hash.update(Buffer.from(sample.buffer, sample.byteOffset, sample.byteLength));
  const norm = toBf16(model.weight(finalNormName(c)).dataSync() as Float32Array);
  hash.update(Buffer.from(norm.buffer, norm.byteOffset, norm.byteLength));
  return hash.digest('hex').slice(0, 32);
}

/**
 * Saves the model's LoRA adapters as PEFT does: `adapter_model.safetensors` with tensors
 * `base_model.model.model.layers.<i>.<self_attn|mlp>.<proj>.lora_A.weight` [r, in] and `lora_B`
 * [out, r] (float32), and `adapter_config.json`. The folder is written under a temporary name and
 * renamed, so a reader never sees half an adapter.
 */
export function saveAdapter(model: LlamaModel, dir: string, baseModel = ''): void {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new Error('the model has no LoRA adapters to save');
  const first = layers[0];
  const targets = [...new Set(layers.map((l) => l.module.split('.').pop() as string))];
  const tensors = new Map<string, RawTensor>();
  for (const layer of layers) {
    for (const [name, v] of layer.variables()) {
      tensors.set(name, { dtype: 'float32', shape: [...v.shape], data: v.dataSync() as Float32Array });
    }
  }
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeSafetensors(path.join(tmp, ADAPTER_WEIGHTS), tensors, {
    format: 'pt',
    introdl_base_fingerprint: modelFingerprint(model),
    introdl_base_model: baseModel,
  });
  const config = peftAdapterConfig(first.r, first.alpha, first.dropout, targets, baseModel);
  writeFileAtomicSync(path.join(tmp, ADAPTER_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(path.dirname(target), { recursive: true });
  renameSync(tmp, target);
}

const NAME = /^base_model\.model\.(model\.layers\.(\d+)\.[\w.]+?)\.(lora_A|lora_B)(?:\.default)?\.weight$/;

/**
 * Loads a PEFT LoRA adapter folder onto `model` (replacing any adapters it has). Every tensor's name
 * and shape is checked against the model, so an adapter trained for another model is refused.
 * @throws MissingFileError / BadFileError naming the file and the mismatch.
 */
export function loadAdapter(model: LlamaModel, dir: string): { r: number; alpha: number; targets: Projection[] } {
  const configFile = path.join(dir, ADAPTER_CONFIG);
  const weightsFile = path.join(dir, ADAPTER_WEIGHTS);
  if (!existsSync(configFile))
    throw new MissingFileError(configFile, 'an adapter folder holds adapter_config.json and adapter_model.safetensors');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new BadFileError(configFile, `is not valid JSON (${(err as Error).message})`);
  }
  if (config.peft_type !== undefined && config.peft_type !== 'LORA') {
    throw new BadFileError(configFile, `peft_type is ${config.peft_type}; only LORA adapters are supported`);
  }
  const r = Number(config.r);
  const alpha = Number(config.lora_alpha ?? 8);
  if (!(Number.isInteger(r) && r > 0))
    throw new BadFileError(configFile, `"r" must be a positive integer, got ${config.r}`);
  if (config.use_dora === true || config.use_rslora === true) {
    throw new BadFileError(configFile, 'DoRA and rsLoRA adapters are not supported');
  }
  const file = SafetensorsFile.open(weightsFile);
  try {
    // Every linear module the model has, by path: an adapter tensor must name one of them.
    const modules = new Map(linearModules(model.config).map((m) => [m.module, m]));
    const found = new Map<string, { A?: string; B?: string; layer: number; projection: Projection }>();
    for (const name of file.entries.keys()) {
      const m = NAME.exec(name);
      if (!m) throw new BadFileError(weightsFile, `tensor "${name}" is not a LoRA weight of a decoder layer`);
      const layer = Number(m[2]);
      if (layer >= model.config.numLayers) {
        throw new BadFileError(
          weightsFile,
          `has weights for layer ${layer} but the model has ${model.config.numLayers} layers: this adapter was made for another model`,
        );
      }
      const module = modules.get(m[1]);
      if (!module) {
        throw new BadFileError(
          weightsFile,
          `tensor "${name}" adapts ${m[1]}, which this ${model.config.architecture} model does not have: this adapter was made for another model`,
        );
      }
      const entry = found.get(m[1]) ?? { layer, projection: module.role };
      entry[m[3] === 'lora_A' ? 'A' : 'B'] = name;
      found.set(m[1], entry);
    }
    if (found.size === 0) throw new BadFileError(weightsFile, 'holds no LoRA weights');
    const targets = [...new Set([...found.values()].map((e) => e.projection))];
    // Shapes first, so nothing is changed on the model when the adapter does not fit.
    for (const [path, e] of found) {
      if (!e.A || !e.B) throw new BadFileError(weightsFile, `${path} lacks its lora_A or lora_B`);
      const [out, inF] = modules.get(path)!.shape;
      const a = file.entries.get(e.A)!.shape;
      const b = file.entries.get(e.B)!.shape;
      if (a[0] !== r || a[1] !== inF || b[0] !== out || b[1] !== r) {
        throw new BadFileError(
          weightsFile,
          `${e.projection} of layer ${e.layer} has lora_A [${a}] and lora_B [${b}], but this model needs [${r}, ${inF}] and [${out}, ${r}]: this adapter was made for another model`,
        );
      }
    }
    // Same shapes, other weights: the fingerprint written by saveAdapter tells (Python adapters have none).
    const expected = file.metadata.introdl_base_fingerprint;
    if (expected && expected !== modelFingerprint(model)) {
      throw new BadFileError(
        weightsFile,
        `was trained on another base model (${file.metadata.introdl_base_model || 'unknown'}): its fingerprint does not match this model's`,
      );
    }
    removeLora(model);
    applyLora(model, { r, alpha, dropout: Number(config.lora_dropout ?? 0), targetModules: targets });
    // applyLora put adapters on every layer; keep only those the file has.
    for (const [module, adapter] of model.adapters) {
      if (!found.has(module)) {
        adapter.dispose();
        model.adapters.delete(module);
      }
    }
    for (const layer of loraLayers(model)) {
      const entry = found.get(layer.module)!;
      for (const [name, variable] of layer.variables()) {
        const raw = file.read(name.endsWith('lora_A.weight') ? entry.A! : entry.B!);
        const value = tf.tensor(raw.data as Float32Array, raw.shape, 'float32');
        variable.assign(value);
        value.dispose();
      }
    }
    return { r, alpha, targets };
  } finally {
    file.close();
  }
}
