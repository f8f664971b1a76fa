import { BadFlagError, type CommandSpec } from '@introdl/core';
import { type ExportFormat, exportLanguageModel } from '../export/export-model.js';
import { MODEL_OPTIONS } from './shared.js';

/** `introdl lab3 export`: a model and its merged LoRA adapter as an ONNX or safetensors model folder. */
export const exportCommand: CommandSpec = {
  name: 'export',
  description:
    'export a model with its LoRA adapter merged: ONNX with KV cache (transformers.js, onnxruntime) or safetensors, plus config and tokenizer files',
  usesBackend: true,
  options: [
    ...MODEL_OPTIONS,
    {
      flags: '--checkpoint <run>',
      description: 'a run folder of `introdl lab3 train`: its base model and its outputs/adapter',
    },
    { flags: '--format <name>', description: 'onnx or safetensors', default: 'onnx', choices: ['onnx', 'safetensors'] },
    {
      flags: '--template <name>',
      description:
        "chat template to ship: the run's, else auto (the model's own, else plain), model, gemma, lfm2, plain",
    },
  ],
  async run({ options, context }) {
    if (!context.out) throw new BadFlagError('--out <dir> is required: the folder to write the model to');
    const r = await exportLanguageModel({
      model: options.model as string | undefined,
      adapter: options.adapter as string | undefined,
      checkpoint: options.checkpoint as string | undefined,
      tokenizer: options.tokenizer as string | undefined,
      format: options.format as ExportFormat,
      template: options.template as string | undefined,
      out: context.out,
      log: context.log,
    });
    context.print(
      `exported ${r.source}${r.adapter ? ` + ${r.adapter} (merged)` : ''}: ${r.parameters.toLocaleString('en-US')} parameters, chat template ${r.template}`,
    );
    for (const f of r.files) context.print(`  ${f}`);
    context.print(`model folder: ${r.dir}`);
    return 0;
  },
};
