import { BadFlagError, type CommandSpec } from '@introdl/core';
import { exportLab2Model } from './export-model.js';

/** `introdl lab2 export`: a trained model as ONNX files. */
export const exportCommand: CommandSpec = {
  name: 'export',
  description:
    'export a trained model as ONNX (face classifier; DB-VAE classifier head and encoder; Part 1 fc/cnn) for onnxruntime and other runtimes',
  usesBackend: true,
  options: [
    { flags: '--checkpoint <path>', description: 'a run folder or checkpoint folder' },
    { flags: '--format <name>', description: 'onnx', default: 'onnx', choices: ['onnx'] },
  ],
  async run({ options, context }) {
    if (!options.checkpoint) throw new BadFlagError('--checkpoint is required (a run folder or checkpoint folder)');
    if (!context.out) throw new BadFlagError('--out <dir> is required: the folder to write the model to');
    const r = await exportLab2Model({ checkpoint: String(options.checkpoint), out: context.out, log: context.log });
    context.print(`exported the ${r.manifest.kind} model of ${r.manifest.checkpoint} (step ${r.manifest.step})`);
    for (const f of r.files) context.print(`  ${f}`);
    context.print(`model folder: ${r.dir}`);
    return 0;
  },
};
