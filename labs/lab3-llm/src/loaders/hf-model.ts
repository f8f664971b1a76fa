import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, MissingFileError, SafetensorsFile, tf } from '@introdl/core';
import { configFromHf, expectedWeights, type LlamaConfig, parameterCount } from '../model/config.js';
import type { BaseWeight } from '../model/llama.js';
import { type PackedKind, PackedWeight } from '../model/packed.js';

/** What loading a Hugging Face folder's weights reports. */
export interface HfWeights {
  config: LlamaConfig;
  weights: Map<string, BaseWeight>;
  /** How the weight matrices are kept in memory. */
  storage: BaseStorage;
  /** Bytes of tensor data in the safetensors files. */
  fileBytes: number;
  /** Storage dtypes seen (F32, F16, BF16). */
  dtypes: string[];
  shards: string[];
}

/**
 * How base weight matrices are kept in memory: float32, or 16-bit (bfloat16 / half) converted to
 * float32 a block at a time inside each product (model/packed.ts). Norms, biases and convolution
 * kernels are always float32.
 */
export type BaseStorage = 'f32' | PackedKind;

/** `--base-dtype` values: a storage, or `auto`. */
export const BASE_DTYPES = ['auto', 'f32', 'bf16', 'f16'] as const;
export type BaseDtype = (typeof BASE_DTYPES)[number];

/** auto keeps float32 up to this many parameters (1 GB as float32), 16 bits above. */
export const AUTO_F32_MAX_PARAMETERS = 250_000_000;

/**
 * Training checkpoints layers (recomputes them in the backward pass) from this many parameters on:
 * tfjs keeps every intermediate of a layer for its gradient, 2.8 GB for SmolLM2-135M at 256
 * tokens, against 0.5 GB with checkpointing (measured), for a few percent more time on the CPU.
 * Tiny models (stories260K) are faster without.
 */
export const AUTO_CHECKPOINT_MIN_PARAMETERS = 20_000_000;

/**
 * The storage `auto` picks: float32 for models up to {@link AUTO_F32_MAX_PARAMETERS} parameters
 * (fastest, and small enough), above that 16 bits in the checkpoint's own format (bfloat16 for
 * float32 checkpoints), halving the memory.
 */
export function chooseStorage(dtype: BaseDtype, config: LlamaConfig, fileDtypes: readonly string[]): BaseStorage {
  if (dtype !== 'auto') return dtype;
  if (parameterCount(config) <= AUTO_F32_MAX_PARAMETERS) return 'f32';
  return fileDtypes.includes('F16') && !fileDtypes.includes('BF16') ? 'f16' : 'bf16';
}

/** Options of {@link loadHfWeights}. */
export interface LoadHfOptions {
  /** Storage of the weight matrices; default `auto`. */
  baseDtype?: BaseDtype;
  onProgress?: (message: string) => void;
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
 * Which files hold the tensors: model.safetensors when present (as transformers prefers it), else
 * the shards model.safetensors.index.json lists, else every *.safetensors file in the folder.
 */
function shardPlan(folder: string): string[] {
  const single = path.join(folder, 'model.safetensors');
  if (existsSync(single)) return [single];
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
export function loadHfWeights(folder: string, options: LoadHfOptions | ((message: string) => void) = {}): HfWeights {
  const { baseDtype = 'auto', onProgress } = typeof options === 'function' ? { onProgress: options } : options;
  const dir = path.resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MissingFileError(dir, 'pass a llama2.c checkpoint (.bin) or a Hugging Face model folder');
  }
  const config = readHfConfig(dir);
  const expected = expectedWeights(config);
  const weights = new Map<string, BaseWeight>();
  const dtypes = new Set<string>();
  let storage: BaseStorage = 'f32';
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
      const fileDtypes = new Set<string>();
      for (const file of files) for (const entry of file.entries.values()) fileDtypes.add(entry.dtype);
      storage = chooseStorage(baseDtype, config, [...fileDtypes]);
      for (const file of files) {
        onProgress?.(`reading ${path.basename(file.path)} (${file.entries.size} tensors, kept as ${storage})`);
        for (const [name, entry] of file.entries) {
          if (IGNORED.test(name) || (name === 'lm_head.weight' && config.tieWordEmbeddings)) continue;
          weights.set(name, readWeight(file, name, entry.dtype, entry.shape, storage));
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
  return { config, weights, storage, fileBytes, dtypes: [...dtypes], shards };
}

/**
 * One weight in the chosen storage: a matrix with an even number of columns is packed when the
 * storage is 16-bit (its bytes taken as they are when the file has that format, rounded otherwise);
 * everything else is float32.
 */
function readWeight(
  file: SafetensorsFile,
  name: string,
  dtype: string,
  shape: number[],
  storage: BaseStorage,
): BaseWeight {
  if (storage !== 'f32' && PackedWeight.fits(shape) && !name.endsWith('norm.weight')) {
    const matrix: [number, number] = [shape[0], shape[1]];
    if ((dtype === 'BF16' && storage === 'bf16') || (dtype === 'F16' && storage === 'f16')) {
      let bytes = file.readBytes(name);
      if (bytes.byteOffset % 2) bytes = Buffer.from(bytes); // a Uint16Array view needs an even offset
      return PackedWeight.fromUint16(
        new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2),
        matrix,
        storage,
      );
    }
    return PackedWeight.fromFloat32(file.read(name).data as Float32Array, matrix, storage);
  }
  const raw = file.read(name);
  return tf.tensor(raw.data as Float32Array, raw.shape, 'float32');
}
