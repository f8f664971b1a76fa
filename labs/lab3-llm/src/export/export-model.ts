import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  BadFileError,
  BadFlagError,
  MissingFileError,
  type RawTensor,
  writeExportFolder,
  writeFileAtomicSync,
  writeOnnxModel,
  writeSafetensors,
} from '@introdl/core';
import type { LoadedModel } from '../loaders/load-model.js';
import { loadModel } from '../loaders/load-model.js';
import { mergeLora } from '../lora/lora.js';
import { configToHf } from '../model/config.js';
import { Llama2cTokenizer } from '../tokenizer/llama2c-tokenizer.js';
import { BUILTIN_CHAT_TEMPLATES_JINJA } from './chat-template-jinja.js';
import { llamaOnnxGraph } from './llama-onnx.js';
import { llama2cTokenizerConfig, llama2cTokenizerJson } from './tokenizer-json.js';

/**
 * `introdl lab3 export`: a model (with its LoRA adapter merged into the weights) as a Hugging Face
 * model folder that other tools load as is:
 *
 * - `--format onnx`: `onnx/model.onnx` (KV cache in Optimum's names, see llama-onnx.ts), which
 *   transformers.js runs from a local folder and `introdl lab3 generate --runtime onnx` runs in
 *   onnxruntime-node;
 * - `--format safetensors`: `model.safetensors` in Hugging Face's tensor names and layout, which
 *   transformers (Python) and this lab load;
 *
 * each with `config.json`, `generation_config.json`, `tokenizer.json` and `tokenizer_config.json`
 * (with the chat template the adapter was trained with).
 */

export type ExportFormat = 'onnx' | 'safetensors';

/** Options of {@link exportLanguageModel}. */
export interface ExportOptions {
  /** --model: a llama2.c .bin, a Hugging Face folder or a named model (stories260K). */
  model?: string;
  /** --adapter: a PEFT LoRA folder. */
  adapter?: string;
  /** --checkpoint: a run folder of `introdl lab3 train` (its base model and outputs/adapter). */
  checkpoint?: string;
  /** --tokenizer override. */
  tokenizer?: string;
  format: ExportFormat;
  out: string;
  /** The chat template to record; default: the training run's, else the model's own, else plain. */
  template?: string;
  /** ONNX weights over this many bytes go to onnx/model.onnx_data (default 1.5 GB; protobuf stops at 2 GB). */
  externalDataBytes?: number;
  log?: (message: string) => void;
}

/** What was written. */
export interface ExportResult {
  dir: string;
  files: string[];
  source: string;
  adapter?: string;
  template: string;
  parameters: number;
}

/** The base model and adapter of a training run folder. */
function fromRunFolder(dir: string): { model: string; adapter: string; template?: string } {
  const runJson = path.join(dir, 'run.json');
  if (!existsSync(runJson)) {
    const inRun = existsSync(path.join(dir, '..', '..', 'run.json'));
    throw new MissingFileError(
      runJson,
      inRun
        ? '--checkpoint takes the run folder itself (two levels up): its adapter is outputs/adapter, saved when training ends; for a mid-training checkpoint, pass --model and --adapter'
        : '--checkpoint takes a run folder of `introdl lab3 train`',
    );
  }
  let run: { config?: { model?: unknown; template?: unknown } };
  try {
    run = JSON.parse(readFileSync(runJson, 'utf8'));
  } catch (err) {
    throw new BadFileError(runJson, `is not valid JSON (${(err as Error).message})`);
  }
  const model = run.config?.model;
  if (typeof model !== 'string') throw new BadFileError(runJson, 'names no base model (config.model)');
  const adapter = path.join(dir, 'outputs', 'adapter');
  if (!existsSync(adapter))
    throw new MissingFileError(adapter, 'the run has no trained adapter yet (it saves one when training ends)');
  return { model, adapter, template: typeof run.config?.template === 'string' ? run.config.template : undefined };
}

/** The Jinja chat template to ship. */
function chatTemplateFor(lm: LoadedModel, name: string): string {
  if (name === 'model' || name === 'auto') {
    if (lm.tokenizer.chatTemplate) return lm.tokenizer.chatTemplate;
    if (name === 'model') throw new BadFlagError(`--template model: ${lm.tokenizer.source} has no chat template`);
    return BUILTIN_CHAT_TEMPLATES_JINJA.plain;
  }
  const t = BUILTIN_CHAT_TEMPLATES_JINJA[name];
  if (!t)
    throw new BadFlagError(
      `unknown template "${name}": use auto, model, ${Object.keys(BUILTIN_CHAT_TEMPLATES_JINJA).join(', ')}`,
    );
  return t;
}

/** Tokenizer files: converted from llama2.c's tokenizer.bin, or copied from the model's folder. */
function writeTokenizer(lm: LoadedModel, dir: string, chatTemplate: string): string[] {
  const tok = lm.tokenizer;
  if (tok instanceof Llama2cTokenizer) {
    writeFileAtomicSync(path.join(dir, 'tokenizer.json'), JSON.stringify(llama2cTokenizerJson(tok)));
    const config = llama2cTokenizerConfig(lm.model.config.maxPositions, chatTemplate);
    writeFileAtomicSync(path.join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const special = { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' };
    writeFileAtomicSync(path.join(dir, 'special_tokens_map.json'), `${JSON.stringify(special, null, 2)}\n`);
    return ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
  }
  const source = tok.source;
  const files: string[] = [];
  for (const f of ['tokenizer.json', 'special_tokens_map.json']) {
    if (existsSync(path.join(source, f))) {
      copyFileSync(path.join(source, f), path.join(dir, f));
      files.push(f);
    }
  }
  const configFile = path.join(source, 'tokenizer_config.json');
  const config = existsSync(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) : {};
  config.chat_template = chatTemplate;
  writeFileAtomicSync(path.join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return [...files, 'tokenizer_config.json'];
}

/** The merged weights in Hugging Face's names, [out, in] as PyTorch stores them. */
function hfTensors(lm: LoadedModel): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const name of lm.model.weightNames().sort()) {
    const t = lm.model.weight(name);
    out.set(name, { dtype: 'float32', shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
  }
  return out;
}

/** Exports a model (and adapter) as described in the module comment. */
export async function exportLanguageModel(options: ExportOptions): Promise<ExportResult> {
  const log = options.log ?? (() => {});
  let modelSpec = options.model;
  let adapter = options.adapter;
  let template = options.template;
  if (options.checkpoint) {
    const run = fromRunFolder(options.checkpoint);
    modelSpec ??= run.model;
    adapter ??= run.adapter;
    template ??= run.template;
  }
  if (!modelSpec) throw new BadFlagError('pass --model (e.g. stories260K) or --checkpoint <run folder>');
  // float32 weights: the exporters read every matrix as float32 (16-bit storage is a training-time saving)
  const lm = await loadModel(modelSpec, { adapter, tokenizer: options.tokenizer, log, baseDtype: 'f32' });
  try {
    mergeLora(lm.model);
    const templateName = template ?? 'auto';
    const chatTemplate = chatTemplateFor(lm, templateName);
    const c = lm.model.config;
    const { base } = lm.model.parameterCount();
    return await writeExportFolder(options.out, (dir) => {
      mkdirSync(dir, { recursive: true });
      const files: string[] = [];
      const hf: Record<string, unknown> = configToHf(c);
      if (options.format === 'onnx') {
        const limit = options.externalDataBytes ?? 1.5e9;
        const graph = llamaOnnxGraph(lm.model);
        const external = graph.weightBytes() > limit;
        mkdirSync(path.join(dir, 'onnx'), { recursive: true });
        const sizes = writeOnnxModel(path.join(dir, 'onnx', 'model.onnx'), graph, {
          externalData: external,
          docString: `${modelSpec}${adapter ? ` + LoRA ${adapter} (merged)` : ''}, exported by introdl lab3 export`,
        });
        files.push('onnx/model.onnx');
        if (external) files.push('onnx/model.onnx_data');
        log(
          `onnx/model.onnx: ${(sizes.model / 1e6).toFixed(2)} MB${sizes.externalData ? ` + ${(sizes.externalData / 1e6).toFixed(1)} MB external data` : ''}`,
        );
        hf['transformers.js_config'] = { dtype: 'fp32', ...(external ? { use_external_data_format: true } : {}) };
      } else {
        writeSafetensors(path.join(dir, 'model.safetensors'), hfTensors(lm), { format: 'pt' });
        files.push('model.safetensors');
      }
      writeFileAtomicSync(path.join(dir, 'config.json'), `${JSON.stringify(hf, null, 2)}\n`);
      const generation: Record<string, unknown> = { _from_model_config: true, do_sample: false };
      if (c.bosTokenId !== undefined) generation.bos_token_id = c.bosTokenId;
      if (c.eosTokenIds.length) generation.eos_token_id = c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds;
      writeFileAtomicSync(path.join(dir, 'generation_config.json'), `${JSON.stringify(generation, null, 2)}\n`);
      files.push('config.json', 'generation_config.json', ...writeTokenizer(lm, dir, chatTemplate));
      return {
        dir: path.resolve(options.out),
        files,
        source: modelSpec as string,
        adapter,
        template: templateName,
        parameters: base,
      };
    });
  } finally {
    lm.model.dispose();
  }
}
