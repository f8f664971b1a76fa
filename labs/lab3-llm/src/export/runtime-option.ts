import { BadFlagError, type CommandContext, type OptionSpec } from '@introdl/core';
import { loadFromOptions, requiredString } from '../commands/shared.js';
import type { ModelInfo } from '../loaders/load-model.js';
import { describeModel } from '../loaders/load-model.js';
import type { TextTokenizer } from '../tokenizer/tokenizer.js';
import { loadOnnxModel, type RuntimeModel } from './onnx-language-model.js';

/** `--runtime`: the tfjs model, or an exported ONNX folder in onnxruntime-node. */
export const RUNTIME_OPTION: OptionSpec = {
  flags: '--runtime <name>',
  description: 'tfjs, or onnx: run --model <folder from `introdl lab3 export`> in onnxruntime-node',
  default: 'tfjs',
  choices: ['tfjs', 'onnx'],
};

/** Loads --model for the runtime --runtime names. */
export async function loadForRuntime(
  options: Record<string, unknown>,
  context: CommandContext,
): Promise<{ model: RuntimeModel; tokenizer: TextTokenizer; info: ModelInfo }> {
  if (options.runtime !== 'onnx') return loadFromOptions(options, context);
  if (options.adapter)
    throw new BadFlagError('--runtime onnx runs an exported folder, whose adapter is merged already: drop --adapter');
  const lm = await loadOnnxModel(requiredString(options, 'model'), options.tokenizer as string | undefined);
  context.log(describeModel(lm.info));
  return lm;
}
