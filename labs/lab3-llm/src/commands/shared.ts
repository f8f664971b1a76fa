import { existsSync } from 'node:fs';
import { BadFlagError, type CommandContext, type OptionSpec } from '@introdl/core';
import { resolveAdapterDir } from '../chat/studio-chat.js';
import { locateLab3 } from '../data/locate.js';
import { readText } from '../data/readers.js';
import { YODA_TEST_TEXT } from '../data/specs.js';
import { BASE_DTYPES, type BaseDtype } from '../loaders/hf-model.js';
import { describeModel, type LoadedModel, loadModel } from '../loaders/load-model.js';

/** --model, --tokenizer, --adapter: every command that runs a model. */
export const MODEL_OPTIONS: OptionSpec[] = [
  {
    flags: '--model <path>',
    description:
      'a Hugging Face model by name (org/name[@revision], downloaded into the HF cache), a Hugging Face model folder, a llama2.c checkpoint (.bin), or stories260K (from INTRODL_DATA/lab3-llm)',
  },
  {
    flags: '--tokenizer <path>',
    description: "tokenizer.bin or a folder with tokenizer.json (default: the model's own)",
  },
  {
    flags: '--adapter <dir>',
    description:
      'a LoRA adapter folder (adapter_config.json + adapter_model.safetensors), or the run folder of `lab3 train` that saved one',
  },
  {
    flags: '--base-dtype <dtype>',
    description:
      'how the weight matrices are kept: auto (float32 up to 250M parameters, else 16-bit), f32, bf16 or f16 (16-bit: half the memory, converted per block inside each matmul)',
    default: 'auto',
    choices: [...BASE_DTYPES],
  },
];

export const TEMPLATE_OPTION: OptionSpec = {
  flags: '--template <name>',
  description: "chat template: auto (the model's own, else plain), model, gemma, lfm2, plain",
  default: 'auto',
};

/** A string option that must be present. */
export function requiredString(options: Record<string, unknown>, name: string, flag = name): string {
  const v = options[name];
  if (typeof v !== 'string' || v === '') throw new BadFlagError(`--${flag} is required`);
  return v;
}

/** Loads --model (with --tokenizer and --adapter) and logs what was loaded. */
export async function loadFromOptions(options: Record<string, unknown>, context: CommandContext): Promise<LoadedModel> {
  const lm = await loadModel(requiredString(options, 'model'), {
    tokenizer: options.tokenizer as string | undefined,
    adapter: typeof options.adapter === 'string' ? resolveAdapterDir(options.adapter) : undefined,
    baseDtype: (options.baseDtype as BaseDtype | undefined) ?? 'auto',
    log: context.log,
  });
  context.log(describeModel(lm.info));
  return lm;
}

/** The Yoda passage: --text PATH, else yoda_test_text.txt from INTRODL_DATA/lab3-llm or the cache. */
export async function yodaTestText(path?: string): Promise<{ text: string; file: string }> {
  if (path) return { text: readText(path), file: path };
  const found = await locateLab3(YODA_TEST_TEXT, 'pass --text <yoda_test_text.txt>');
  const file = found.files['yoda_test_text.txt'];
  return { text: readText(file), file };
}

/** The Yoda passage when it can be found, else undefined (for optional before/after metrics). */
export async function optionalYodaTestText(path?: string): Promise<{ text: string; file: string } | undefined> {
  if (path && !existsSync(path)) throw new BadFlagError(`--eval-text ${path}: no such file`);
  try {
    return await yodaTestText(path);
  } catch {
    return undefined;
  }
}

/** A number option within bounds. */
export function boundedNumber(
  options: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
): number {
  const raw = options[name];
  const v = raw === undefined ? fallback : Number(raw);
  const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (!Number.isFinite(v) || v < min || v > max)
    throw new BadFlagError(`--${flag} must be a number in [${min}, ${max}], got "${raw}"`);
  return v;
}

/** A positive integer option. */
export function positiveInt(options: Record<string, unknown>, name: string, fallback: number, min = 1): number {
  const raw = options[name];
  const v = raw === undefined ? fallback : Number(raw);
  const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  if (!Number.isInteger(v) || v < min) throw new BadFlagError(`--${flag} must be an integer ≥ ${min}, got "${raw}"`);
  return v;
}
