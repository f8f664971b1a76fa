import { existsSync, readdirSync } from 'node:fs';
import { BadFlagError, type CommandSpec } from '@introdl/core';
import { MODEL_SHAPES, writeRandomModel } from '../fixtures/random-model.js';
import { humanBytes } from '../hub/progress.js';
import { requiredString } from './shared.js';

/**
 * `introdl lab3 random-model`: a Hugging Face folder with random weights in the exact shape of a
 * course model, to time training and check memory on a machine before downloading the real one.
 */
export const randomModelCommand: CommandSpec = {
  name: 'random-model',
  description:
    'write a random-weight model with the shape of SmolLM2-135M, Qwen3-0.6B, Gemma 3 1B or LFM2-1.2B (timing, memory)',
  usesBackend: false,
  writesRun: false,
  options: [
    {
      flags: '--shape <name>',
      description: Object.keys(MODEL_SHAPES).join(' | '),
      default: 'smollm2-135m',
      choices: Object.keys(MODEL_SHAPES),
    },
    { flags: '--dir <folder>', description: 'where to write it (a new or empty folder)' },
    { flags: '--seed <n>', description: 'seeds the weights', default: '1' },
  ],
  async run({ options, context }) {
    const dir = requiredString(options, 'dir');
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new BadFlagError(`--dir ${dir} is not empty`);
    const shape = String(options.shape ?? 'smollm2-135m');
    const seed = Number(options.seed ?? 1);
    if (!Number.isInteger(seed)) throw new BadFlagError('--seed must be an integer');
    const t0 = performance.now();
    const m = writeRandomModel(dir, shape, seed);
    context.log(
      `random ${shape} (${MODEL_SHAPES[shape].repo}'s shape): ${m.parameters.toLocaleString('en-US')} parameters, ` +
        `${humanBytes(m.bytes)} of bfloat16 in ${((performance.now() - t0) / 1000).toFixed(1)} s; its weights are noise`,
    );
    context.print(m.folder);
    return 0;
  },
};
