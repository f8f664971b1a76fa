import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  BadFileError,
  BadFlagError,
  createOnnxSession,
  floatTensor,
  int64Tensor,
  MissingFileError,
  type OnnxSession,
  type OnnxTensor,
} from '@introdl/core';
import type { ModelInfo } from '../loaders/load-model.js';
import { configFromHf, type LlamaConfig, parameterCount } from '../model/config.js';
import { type GenerateOptions, type GenerateResult, generate, samplingLoop } from '../model/generate.js';
import type { LlamaModel } from '../model/llama.js';
import { HfTokenizer } from '../tokenizer/hf-tokenizer.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import { cacheNames } from './llama-onnx.js';

/**
 * A model folder written by `introdl lab3 export --format onnx`, run in onnxruntime-node: the same
 * generation loop as the tfjs model's (prompt once, then one position per token with the KV cache,
 * the same sampling with the same seed), feeding the graph's past_key_values with its present.
 */
export class OnnxCausalLM {
  private constructor(
    readonly config: LlamaConfig,
    private readonly session: OnnxSession,
    readonly file: string,
  ) {}

  /** Opens `<folder>/onnx/model.onnx` with the folder's config.json. */
  static async load(folder: string): Promise<OnnxCausalLM> {
    const file = path.join(folder, 'onnx', 'model.onnx');
    if (!existsSync(file))
      throw new MissingFileError(file, '--runtime onnx needs a folder written by `introdl lab3 export --format onnx`');
    const configFile = path.join(folder, 'config.json');
    if (!existsSync(configFile)) throw new MissingFileError(configFile, 'the exported folder has no config.json');
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(readFileSync(configFile, 'utf8'));
    } catch (err) {
      throw new BadFileError(configFile, `is not valid JSON (${(err as Error).message})`);
    }
    const config = configFromHf(json, configFile);
    const session = await createOnnxSession(file);
    for (const name of ['input_ids', 'attention_mask', 'position_ids', cacheNames(0).pastKey]) {
      if (!session.inputNames.includes(name))
        throw new BadFileError(file, `has no input "${name}": not a decoder exported with its KV cache`);
    }
    return new OnnxCausalLM(config, session, file);
  }

  /** Logits of the last position for `ids` after the cached ones; the cache is replaced by the new one. */
  async step(ids: readonly number[], cache: Map<string, OnnxTensor>): Promise<Float32Array> {
    const c = this.config;
    const past = cache.get(cacheNames(0).pastKey)?.dims[2] ?? 0;
    const T = ids.length;
    const feeds: Record<string, OnnxTensor> = {
      input_ids: await int64Tensor(ids, [1, T]),
      attention_mask: await int64Tensor(new Array(past + T).fill(1), [1, past + T]),
      position_ids: await int64Tensor(
        Array.from({ length: T }, (_, i) => past + i),
        [1, T],
      ),
    };
    for (let l = 0; l < c.numLayers; l++) {
      const n = cacheNames(l);
      const empty = async () => floatTensor(new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
      feeds[n.pastKey] = cache.get(n.pastKey) ?? (await empty());
      feeds[n.pastValue] = cache.get(n.pastValue) ?? (await empty());
    }
    const out = await this.session.run(feeds);
    for (let l = 0; l < c.numLayers; l++) {
      const n = cacheNames(l);
      cache.set(n.pastKey, out[n.presentKey]);
      cache.set(n.pastValue, out[n.presentValue]);
    }
    const logits = out.logits.data as Float32Array;
    const V = c.vocabSize;
    return logits.subarray((T - 1) * V, T * V);
  }

  /** Full logits [T·V] of one sequence from an empty cache (for comparisons with the tfjs model). */
  async logits(ids: readonly number[]): Promise<Float32Array> {
    const c = this.config;
    const feeds: Record<string, OnnxTensor> = {
      input_ids: await int64Tensor(ids, [1, ids.length]),
      attention_mask: await int64Tensor(new Array(ids.length).fill(1), [1, ids.length]),
      position_ids: await int64Tensor(
        ids.map((_, i) => i),
        [1, ids.length],
      ),
    };
    for (let l = 0; l < c.numLayers; l++) {
      const n = cacheNames(l);
      feeds[n.pastKey] = await floatTensor(new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
      feeds[n.pastValue] = await floatTensor(new Float32Array(0), [1, c.numKvHeads, 0, c.headDim]);
    }
    return (await this.session.run(feeds)).logits.data as Float32Array;
  }

  /** {@link generate} of model/generate.ts, step for step, on ONNX Runtime. */
  async generate(prompt: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
    const cache = new Map<string, OnnxTensor>();
    const loop = samplingLoop(prompt, options, this.config.maxPositions);
    let it = loop.next();
    while (!it.done) it = loop.next(await this.step(it.value, cache));
    return it.value;
  }

  /** Bytes of the model file. */
  bytes(): number {
    return statSync(this.file).size;
  }

  dispose(): void {
    void this.session.release();
  }
}

/** A model of either runtime: the tfjs LlamaModel or an exported ONNX folder. */
export type RuntimeModel = LlamaModel | OnnxCausalLM;

/** Generation on whichever runtime the model is. */
export function generateWith(
  model: RuntimeModel,
  prompt: readonly number[],
  options: GenerateOptions,
): Promise<GenerateResult> {
  return model instanceof OnnxCausalLM ? model.generate(prompt, options) : generate(model, prompt, options);
}

/** An exported ONNX folder with its tokenizer, as the commands use a loaded model. */
export interface LoadedOnnxModel {
  model: OnnxCausalLM;
  tokenizer: TextTokenizer;
  info: ModelInfo;
}

/** Loads `--model <exported folder>` for `--runtime onnx`. */
export async function loadOnnxModel(folder: string, tokenizerPath?: string): Promise<LoadedOnnxModel> {
  const t0 = performance.now();
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new BadFlagError(`--runtime onnx takes --model <folder written by introdl lab3 export>, got "${folder}"`);
  const model = await OnnxCausalLM.load(folder);
  const tokenizer = await HfTokenizer.load(tokenizerPath ?? folder, model.config.eosTokenIds);
  const parameters = parameterCount(model.config);
  return {
    model,
    tokenizer,
    info: {
      source: folder,
      format: 'huggingface',
      architecture: `${model.config.architecture} (onnx)`,
      parameters,
      fileBytes: model.bytes(),
      memoryBytes: model.bytes(),
      dtypes: ['F32'],
      tokenizer: tokenizer.source,
      seconds: (performance.now() - t0) / 1000,
    },
  };
}
