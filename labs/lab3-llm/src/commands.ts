import type { CommandGroup } from '@introdl/core';
import { chatCommand } from './commands/chat.js';
import { exportCommand } from './commands/export.js';
import { generateCommand } from './commands/generate.js';
import { judgeCommand } from './commands/judge.js';
import { metricCommand } from './commands/metric.js';
import { randomModelCommand } from './commands/random-model.js';
import { scoreCommand } from './commands/score.js';
import { styleCommand } from './commands/style.js';
import { trainCommand } from './commands/train.js';

/** `introdl lab3 …`: Lab 3's commands. */
export const commands: CommandGroup = {
  name: 'lab3',
  description: 'Lab 3: a Llama-family LLM, LoRA fine-tuning for style, the judge and the competition metric',
  commands: [
    generateCommand,
    chatCommand,
    trainCommand,
    metricCommand,
    judgeCommand,
    styleCommand,
    scoreCommand,
    exportCommand,
    randomModelCommand,
  ],
};
