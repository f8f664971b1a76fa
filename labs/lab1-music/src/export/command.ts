import { BadFlagError, type CommandSpec } from '@introdl/core';
import { exportMusicModel } from './export-music.js';

/** `introdl lab1 export`: the music model as ONNX (one step with state, and whole sequences). */
export const exportCommand: CommandSpec = {
  name: 'export',
  description: 'export the music model as ONNX: one stateful generation step, and whole sequences',
  usesBackend: true,
  options: [
    {
      flags: '--checkpoint <dir>',
      description: 'a run folder of `introdl lab1 train` or one of its checkpoints/<step>',
    },
    { flags: '--format <name>', description: 'onnx', default: 'onnx', choices: ['onnx'] },
  ],
  async run({ options, context }) {
    if (!options.checkpoint) throw new BadFlagError('--checkpoint is required: a run folder of `introdl lab1 train`');
    if (!context.out) throw new BadFlagError('--out <dir> is required: the folder to write the model to');
    const r = await exportMusicModel({ checkpoint: String(options.checkpoint), out: context.out, log: context.log });
    context.print(`exported the music model of ${r.manifest.checkpoint} (step ${r.manifest.step})`);
    for (const f of r.files) context.print(`  ${f}`);
    context.print(`model folder: ${r.dir}`);
    return 0;
  },
};
