import { type CommandSpec, RunFolder } from '@introdl/core';
import { loadStyleData, STYLE_DATA_NAMES } from '../data/training-data.js';
import { StyleScorer } from '../eval/style-scorer.js';
import { LAB } from '../lab.js';
import { textsFromOptions } from './judge.js';
import { positiveInt } from './shared.js';

/** `introdl lab3 style`: train the offline style scorer (and score texts with it). */
export const styleCommand: CommandSpec = {
  name: 'style',
  description: 'train the offline style scorer (character n-gram logistic regression) and report its held-out accuracy',
  usesBackend: true,
  options: [
    { flags: '--data <name|path>', description: `${STYLE_DATA_NAMES.join(' | ')} | a file`, default: 'yoda' },
    {
      flags: '--dolly <file>',
      description: 'dolly-15k JSON Lines for --data yoda/leprechaun (default: the course data instructions file)',
    },
    { flags: '--steps <n>', description: 'training steps', default: '300' },
    { flags: '--text <text>', description: 'a text to score after training' },
    { flags: '--texts <file>', description: 'texts to score after training (one per line)' },
  ],
  async run({ options, context }) {
    const data = await loadStyleData(String(options.data ?? 'yoda'), {
      dolly: options.dolly as string | undefined,
      seed: context.seed,
    });
    const scorer = await StyleScorer.train(data.styledTexts, data.plainTexts, {
      seed: context.seed,
      steps: positiveInt(options, 'steps', 300),
    });
    const r = scorer.report;
    const run = RunFolder.create({
      lab: LAB,
      command: 'introdl lab3 style',
      config: { data: data.description, steps: positiveInt(options, 'steps', 300) },
      seed: context.seed,
      backend: context.backend?.name,
      out: context.out,
    });
    const file = run.output('style-scorer.json');
    scorer.save(file);
    context.print(
      `style scorer: held-out accuracy ${r.heldOutAccuracy.toFixed(3)} on ${r.heldOutExamples} texts (train ${r.trainAccuracy.toFixed(3)} on ${r.trainExamples}); saved ${file}`,
    );
    if (options.text !== undefined || options.texts !== undefined) {
      const texts = textsFromOptions(options);
      scorer.score(texts).forEach((s, i) => {
        context.print(`${s.toFixed(2)}\t${texts[i]}`);
      });
    }
    run.finish('completed', { ...r });
    return 0;
  },
};
