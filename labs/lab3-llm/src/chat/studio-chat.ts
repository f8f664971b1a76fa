import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, MissingFileError } from '@introdl/core';
import { type LoadedModel, loadModel } from '../loaders/load-model.js';
import { mergeLora } from '../lora/lora.js';
import { chatPieces } from './stream.js';
import { chooseTemplate } from './templates.js';

/**
 * What the studio's Lab 3 page asks for (the studio's `ChatRequest`, restated here because labs do
 * not import the studio).
 */
export interface StudioChatRequest {
  message: string;
  /** `base`: the pretrained model; `tuned`: the model with the LoRA adapter of `run`. */
  model: 'base' | 'tuned';
  /** Absolute path of a Lab 3 run folder: its model (and, when tuned, its adapter) are used. */
  run?: string;
  maxNewTokens: number;
  temperature: number;
  signal: AbortSignal;
}

/** The model a chat uses when no run names one. */
export const DEFAULT_CHAT_MODEL = 'stories260K';

/**
 * A run's adapter folder: `dir` itself when it holds adapter_config.json, else the adapter a
 * training run saved in `outputs/adapter/`. Anything else is returned as given, for the loader to
 * report.
 */
export function resolveAdapterDir(dir: string): string {
  if (existsSync(path.join(dir, 'adapter_config.json'))) return dir;
  const saved = path.join(dir, 'outputs', 'adapter');
  return existsSync(path.join(saved, 'adapter_config.json')) ? saved : dir;
}

/** The model and chat template a training run used (from its run.json). */
export function runModel(runDir: string): { model: string; template: string } {
  const file = path.join(runDir, 'run.json');
  if (!existsSync(file)) throw new MissingFileError(file, 'a Lab 3 run folder holds run.json');
  let info: { config?: { model?: unknown; template?: unknown } };
  try {
    info = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new BadFileError(file, 'is not valid JSON');
  }
  const model = info.config?.model;
  if (typeof model !== 'string' || !model)
    throw new BadFileError(file, 'names no model (config.model): is it a Lab 3 training run?');
  const template = typeof info.config?.template === 'string' ? info.config.template : 'auto';
  return { model, template };
}

/** The last model loaded, kept so a conversation does not reload it at every message. */
let cached: { key: string; lm: Promise<LoadedModel> } | undefined;

async function modelFor(model: string, adapter: string | undefined): Promise<LoadedModel> {
  const key = `${model}\u0000${adapter ?? ''}`;
  if (cached?.key !== key) {
    const previous = cached;
    const lm = loadModel(model, { adapter }).then((loaded) => {
      // Merged weights generate faster; this copy is never trained or saved.
      if (adapter) mergeLora(loaded.model);
      return loaded;
    });
    cached = { key, lm };
    lm.catch(() => {
      if (cached?.lm === lm) cached = undefined;
    });
    previous?.lm.then((p) => p.model.dispose()).catch(() => {});
  }
  return (cached as { lm: Promise<LoadedModel> }).lm;
}

/**
 * The studio's Lab 3 chat: the reply to one message, piece by piece as it is generated. A tuned
 * chat loads the run's model with the adapter the run saved; a base chat loads the run's model (or
 * stories260K) alone. The run's chat template is used, as in training.
 */
export async function* chatStream(request: StudioChatRequest): AsyncIterable<string> {
  const fromRun = request.run ? runModel(request.run) : { model: DEFAULT_CHAT_MODEL, template: 'auto' };
  const adapter = request.model === 'tuned' && request.run ? resolveAdapterDir(request.run) : undefined;
  if (request.model === 'tuned' && !adapter) throw new Error('a tuned chat needs a Lab 3 training run');
  const lm = await modelFor(fromRun.model, adapter);
  const template = chooseTemplate(fromRun.template, lm.tokenizer);
  yield* chatPieces(lm, request.message, {
    template,
    maxNewTokens: request.maxNewTokens,
    temperature: request.temperature,
    seed: 0,
    signal: request.signal,
  });
}

/** The studio's page metadata for Lab 3. */
export const views = {
  title: 'Lab 3: fine-tune an LLM',
  description: 'Chat with the base model or a LoRA style-tuned one, and look at the judge and style scores.',
};
