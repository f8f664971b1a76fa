import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, MissingFileError, SafetensorsFile, tf } from '@introdl/core';
import { configFromHf, expectedWeights, type LlamaConfig } from '../model/config.js';

/** What loading a Hugging Face folder's weights reports. */
export interface HfWeights {
  config: LlamaConfig;
  weights: Map<string, tf.Tensor>;
  /** Bytes of tensor data in the safetensors files. */
  fileBytes: number;
  /** Storage dtypes seen (F32, F16, BF16). */
  dtypes: string[];
  shards: string[];
}

/** Tensors some checkpoints carry that the model recomputes. */
const IGNORED = /(^|\.)rotary_emb\.inv_freq$/;

/** Reads and validates a JSON file. */
export function readJson(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new MissingFileError(file);
  try {
    const value = JSON.parse(readFileSync(file, 'utf8'));
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value;
  } catch (err) {
    throw new BadFileError(file, `is not a valid JSON object (${(err as Error).message})`);
  }
}

/** The model's config.json as a {@link LlamaConfig}, with generation_config.json's eos ids merged in. */
export function readHfConfig(folder: string): LlamaConfig {
  const file = path.join(folder, 'config.json');
  if (!existsSync(file)) throw new MissingFileError(file, 'a Hugging Face model folder needs config.json');
  const config = configFromHf(readJson(file), file);
  const genFile = path.join(folder, 'generation_config.json');
  if (existsSync(genFile)) {
    const gen = readJson(genFile);
    const eos = gen.eos_token_id;
    const extra = typeof eos === 'number' ? [eos] : Array.isArray(eos) ? eos.filter((v) => typeof v === 'number') : [];
    config.eosTokenIds = [...new Set([...config.eosTokenIds, ...extra])];
  }
  return config;
}

/**
 * Which shard holds which tensor: from model.safetensors.index.json when present, else every
 * *.safetensors file in the folder.
 */
function shardPlan(folder: string): string[] {
  const index = path.join(folder, 'model.safetensors.index.json');
  if (existsSync(index)) {
    const map = readJson(index).weight_map;
    if (!map || typeof map !== 'object') throw new BadFileError(index, 'has no "weight_map" object');
    const shards = [...new Set(Object.values(map as Record<string, string>))];
    for (const s of shards) {
      if (typeof s !== 'string' || s.includes('/') || s.includes('\\'))
        throw new BadFileError(index, `bad shard name ${JSON.stringify(s)}`);
      if (!existsSync(path.join(folder, s))) throw new MissingFileError(path.join(folder, s), `listed in ${index}`);
    }
    return shards.map((s) => path.join(folder, s));
  }
  const files = readdirSync(folder)
    .filter((f) => f.endsWith('.safetensors') && f !== 'adapter_model.safetensors')
    .sort();
  if (files.length === 0) {
    throw new MissingFileError(
      path.join(folder, 'model.safetensors'),
      'the folder has no *.safetensors weights (PyTorch .bin checkpoints are not read; convert them to safetensors)',
    );
  }
  return files.map((f) => path.join(folder, f));
}

/**
 * Loads the weights of a Hugging Face model folder shard by shard and tensor by tensor: each tensor
 * is read from disk, decoded to float32 and handed to tfjs before the next is read, so no second
 * full copy of the model is ever held in JavaScript memory.
 * @throws BadFileError naming the file when a shard is truncated or lies about sizes, a tensor's
 * shape disagrees with config.json, or a weight is missing or unexpected.
 */
export function loadHfWeights(folder: string, onProgress?: (message: string) => void): HfWeights {
  const dir = path.resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MissingFileError(dir, 'pass a llama2.c checkpoint (.bin) or a Hugging Face model folder');
  }
  const config = readHfConfig(dir);
  const expected = expectedWeights(config);
  const weights = new Map<string, tf.Tensor>();
  const dtypes = new Set<string>();
  let fileBytes = 0;
  const shards = shardPlan(dir);
  try {
    // Validate every header first, so a broken last shard fails before gigabytes are read.
    const files: SafetensorsFile[] = [];
    const seen = new Set<string>();
    try {
      for (const s of shards) files.push(SafetensorsFile.open(s));
      for (const file of files) {
        for (const [name, entry] of file.entries) {
          if (IGNORED.test(name)) continue;
          if (name === 'lm_head.weight' && config.tieWordEmbeddings) continue; // some tied checkpoints save it anyway
          const shape = expected.get(name);
          if (!shape) {
            throw new BadFileError(
              file.path,
              `holds tensor "${name}" that a ${config.architecture} decoder with this config.json does not have (another architecture?)`,
            );
          }
          if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
            throw new BadFileError(
              file.path,
              `tensor "${name}" has shape [${entry.shape}] but config.json implies [${shape}]: the config does not match the weights`,
            );
          }
          if (!['F32', 'F16', 'BF16'].includes(entry.dtype)) {
            throw new BadFileError(
              file.path,
              `tensor "${name}" is ${entry.dtype}; only F32, F16 and BF16 weights are read`,
            );
          }
          if (seen.has(name)) throw new BadFileError(file.path, `tensor "${name}" appears in two shards`);
          seen.add(name);
        }
      }
      const missing = [...expected.keys()].filter((n) => !seen.has(n));
      if (missing.length) {
        throw new BadFileError(
          dir,
          `is missing ${missing.length} weight(s) config.json implies, e.g. ${missing.slice(0, 3).join(', ')}`,
        );
      }
      for (const file of files) {
        onProgress?.(`reading ${path.basename(file.path)} (${file.entries.size} tensors)`);
        for (const [name, entry] of file.entries) {
          if (IGNORED.test(name) || (name === 'lm_head.weight' && config.tieWordEmbeddings)) continue;
          const raw = file.read(name);
          weights.set(name, tf.tensor(raw.data as Float32Array, raw.shape, 'float32'));
          dtypes.add(entry.dtype);
          fileBytes += entry.data_offsets[1] - entry.data_offsets[0];
        }
      }
    } finally {
      for (const f of files) f.close();
    }
  } catch (err) {
    for (const t of weights.values()) t.dispose();
    throw err;
  }
  return { config, weights, fileBytes, dtypes: [...dtypes], shards };
}
