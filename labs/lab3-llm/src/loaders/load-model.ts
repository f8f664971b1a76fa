import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, MissingFileError } from '@introdl/core';
import { locateLab3 } from '../data/locate.js';
import { STORIES_260K } from '../data/specs.js';
import { parseModelSpec, type ResolveOptions, resolveHubModel } from '../hub/snapshot.js';
import { loadAdapter } from '../lora/adapter-io.js';
import { LlamaModel } from '../model/llama.js';
import { HfTokenizer, isHfTokenizerFolder } from '../tokenizer/hf-tokenizer.js';
import { Llama2cTokenizer } from '../tokenizer/llama2c-tokenizer.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import { type BaseDtype, type BaseStorage, loadHfWeights } from './hf-model.js';
import { loadLlama2cWeights } from './llama2c.js';

/** What a loaded model is, for the user and for run.json. */
export interface ModelInfo {
  /** The path (or name) given. */
  source: string;
  format: 'llama2c' | 'huggingface';
  architecture: string;
  /** Parameters of the base model (tied embeddings counted once). */
  parameters: number;
  /** Bytes of weights in the files read. */
  fileBytes: number;
  /** Bytes the weights take in memory (16-bit matrices two per value). */
  memoryBytes: number;
  /** How the weight matrices are kept: float32 (default) or 16-bit. */
  storage?: BaseStorage;
  /** Storage dtypes of the weights. */
  dtypes: string[];
  tokenizer: string;
  adapter?: string;
  seconds: number;
}

/** A model ready to run, with its tokenizer. */
export interface LoadedModel {
  model: LlamaModel;
  tokenizer: TextTokenizer;
  info: ModelInfo;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** A tokenizer.bin (llama2.c) or a folder with tokenizer.json; defaults to the model's own. */
  tokenizer?: string;
  /** A PEFT LoRA adapter folder to load on top. */
  adapter?: string;
  /** How `org/name[@revision]` is fetched from the Hugging Face hub (default: from the environment). */
  hub?: ResolveOptions;
  /** Storage of a Hugging Face model's weight matrices (default `auto`: float32 up to 250M parameters). */
  baseDtype?: BaseDtype;
  log?: (message: string) => void;
}

/** Model names that resolve through the data lookup instead of a path. */
export const NAMED_MODELS = { stories260K: STORIES_260K } as const;

/** The tokenizer.bin beside a llama2.c checkpoint: tokenizer.bin, or tok<vocab>.bin as in tinyllamas. */
function siblingTokenizer(modelPath: string, vocabSize: number): string | undefined {
  const dir = path.dirname(modelPath);
  return [path.join(dir, 'tokenizer.bin'), path.join(dir, `tok${vocabSize}.bin`)].find((p) => existsSync(p));
}

/** Checks that no id the tokenizer can produce falls outside the model's embedding. */
function checkTokenizer(tokenizer: TextTokenizer, vocabSize: number): void {
  if (tokenizer.vocabSize > vocabSize) {
    throw new BadFileError(
      tokenizer.source,
      `has ${tokenizer.vocabSize} tokens but the model's embedding has ${vocabSize} rows: this tokenizer does not match the model`,
    );
  }
}

async function loadTokenizer(spec: string, vocabSize: number, eos: readonly number[]): Promise<TextTokenizer> {
  if (isHfTokenizerFolder(spec)) return HfTokenizer.load(spec, eos);
  if (existsSync(spec) && statSync(spec).isDirectory()) {
    throw new MissingFileError(path.join(spec, 'tokenizer.json'), 'a tokenizer folder needs tokenizer.json');
  }
  return Llama2cTokenizer.load(spec, vocabSize);
}

/**
 * Loads a model by path — a llama2.c checkpoint (`.bin` file) or a Hugging Face folder — or by name
 * (`stories260K`, found in INTRODL_DATA/lab3-llm or the cache), with its tokenizer and optionally a
 * LoRA adapter. Reports parameter count and bytes.
 */
export async function loadModel(spec: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const t0 = performance.now();
  let modelPath = spec;
  let tokenizerPath = options.tokenizer;
  if (spec in NAMED_MODELS) {
    const found = await locateLab3(
      NAMED_MODELS[spec as keyof typeof NAMED_MODELS],
      'pass --model <path to stories260K.bin> (tok512.bin beside it, or --tokenizer)',
    );
    modelPath = found.files['stories260K.bin'];
    tokenizerPath ??= found.files['tok512.bin'];
  }
  const hubSpec = existsSync(modelPath) ? undefined : parseModelSpec(modelPath);
  if (hubSpec) {
    // A model by name: the hub cache's snapshot folder, downloaded first when needed.
    const resolved = await resolveHubModel(hubSpec, { log: options.log, ...options.hub });
    options.log?.(
      `${spec}: ${resolved.downloaded.length ? `downloaded ${resolved.downloaded.length} file(s) to` : 'using'} ${resolved.folder}`,
    );
    modelPath = resolved.folder;
  }
  if (!existsSync(modelPath)) {
    throw new MissingFileError(
      path.resolve(modelPath),
      `--model takes a llama2.c .bin checkpoint, a Hugging Face model folder, a hub name such as HuggingFaceTB/SmolLM2-135M-Instruct[@revision], or one of: ${Object.keys(NAMED_MODELS).join(', ')}`,
    );
  }
  let model: LlamaModel;
  let tokenizer: TextTokenizer;
  let info: Omit<ModelInfo, 'tokenizer' | 'seconds' | 'parameters' | 'memoryBytes' | 'storage'>;
  let storage: BaseStorage = 'f32';
  if (statSync(modelPath).isDirectory()) {
    const loaded = loadHfWeights(modelPath, { baseDtype: options.baseDtype, onProgress: options.log });
    storage = loaded.storage;
    model = new LlamaModel(loaded.config, loaded.weights);
    try {
      tokenizer = await loadTokenizer(tokenizerPath ?? modelPath, loaded.config.vocabSize, loaded.config.eosTokenIds);
      checkTokenizer(tokenizer, loaded.config.vocabSize);
    } catch (err) {
      model.dispose();
      throw err;
    }
    info = {
      source: spec,
      format: 'huggingface',
      architecture: loaded.config.architecture,
      fileBytes: loaded.fileBytes,
      dtypes: loaded.dtypes,
    };
  } else {
    const loaded = loadLlama2cWeights(modelPath);
    model = new LlamaModel(loaded.config, loaded.weights);
    try {
      const tok = tokenizerPath ?? siblingTokenizer(modelPath, loaded.config.vocabSize);
      if (!tok) {
        throw new MissingFileError(
          path.join(path.dirname(path.resolve(modelPath)), 'tokenizer.bin'),
          `a llama2.c checkpoint needs its tokenizer: pass --tokenizer (e.g. tok${loaded.config.vocabSize}.bin)`,
        );
      }
      tokenizer = await loadTokenizer(tok, loaded.config.vocabSize, loaded.config.eosTokenIds);
      checkTokenizer(tokenizer, loaded.config.vocabSize);
    } catch (err) {
      model.dispose();
      throw err;
    }
    info = { source: spec, format: 'llama2c', architecture: 'llama2c', fileBytes: loaded.fileBytes, dtypes: ['F32'] };
  }
  if (options.adapter) {
    try {
      loadAdapter(model, options.adapter);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  const { base } = model.parameterCount();
  return {
    model,
    tokenizer,
    info: {
      ...info,
      parameters: base,
      memoryBytes: model.bytes(),
      storage,
      tokenizer: tokenizer.source,
      adapter: options.adapter,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

/** Bytes as "1.2 MB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

/** One line about a loaded model. */
export function describeModel(info: ModelInfo): string {
  return (
    `${info.source} (${info.format}, ${info.architecture}): ${info.parameters.toLocaleString('en-US')} parameters, ` +
    `${formatBytes(info.fileBytes)} on disk (${info.dtypes.join('/')}), ${formatBytes(info.memoryBytes)} in memory (${!info.storage || info.storage === 'f32' ? 'float32' : `${info.storage} matrices`}); ` +
    `tokenizer ${info.tokenizer}${info.adapter ? `; adapter ${info.adapter}` : ''}; loaded in ${info.seconds.toFixed(1)} s`
  );
}
