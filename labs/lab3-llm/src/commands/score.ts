import { type CommandSpec, Rng, RunFolder } from '@introdl/core';
import { chat } from '../chat/chat.js';
import { chooseTemplate } from '../chat/templates.js';
import { loadStyleData, STYLE_DATA_NAMES } from '../data/training-data.js';
import { formatSummaries, type ScoredSet, writeScoreReport } from '../eval/score-sets.js';
import { StyleScorer } from '../eval/style-scorer.js';
import { LAB } from '../lab.js';
import { loraLayers, mergeLora, removeLora } from '../lora/lora.js';
import { JUDGE_OPTIONS, judgeFromOptions } from './judge-options.js';
import {
  boundedNumber,
  loadFromOptions,
  MODEL_OPTIONS,
  positiveInt,
  requiredString,
  TEMPLATE_OPTION,
} from './shared.js';

/** `n` items drawn without replacement. */
function draw<T>(items: readonly T[], n: number, rng: Rng): T[] {
  return [...rng.permutation(items.length)].slice(0, Math.min(n, items.length)).map((i) => items[i]);
}

/** `introdl lab3 score`: the course's three sets (base, generated, style) scored, with the histogram. */
export const scoreCommand: CommandSpec = {
  name: 'score',
  description: 'score the base, generated and style sets with the judge or the offline scorer; write the histogram',
  usesBackend: true,
  options: [
    ...MODEL_OPTIONS,
    TEMPLATE_OPTION,
    { flags: '--data <name|path>', description: `${STYLE_DATA_NAMES.join(' | ')} | a file`, default: 'yoda' },
    {
      flags: '--dolly <file>',
      description: 'dolly-15k JSON Lines for --data yoda/leprechaun (default: the course data instructions file)',
    },
    { flags: '--n <n>', description: 'texts per set (the course: 20)', default: '20' },
    { flags: '--max-tokens <n>', description: 'tokens per generated answer (the course: 100)', default: '100' },
    { flags: '--temperature <t>', description: 'sampling temperature of the generated answers', default: '0.7' },
    {
      flags: '--scorer <kind>',
      description: 'style (offline, no API) or judge',
      default: 'style',
      choices: ['style', 'judge'],
    },
    {
      flags: '--scorer-file <file>',
      description: 'a style scorer saved by `introdl lab3 style` (default: train one now)',
    },
    {
      flags: '--no-compare-base',
      description: 'with --adapter, do not also answer with the adapter removed (the untuned model: a fourth set)',
    },
    ...JUDGE_OPTIONS,
  ],
  async run({ options, context }) {
    requiredString(options, 'model');
    const n = positiveInt(options, 'n', 20);
    const maxNewTokens = positiveInt(options, 'maxTokens', 100);
    const temperature = boundedNumber(options, 'temperature', 0.7, 0, 100);
    const compareBase = Boolean(options.adapter) && options.compareBase !== false;
    const data = await loadStyleData(String(options.data ?? 'yoda'), {
      dolly: options.dolly as string | undefined,
      seed: context.seed,
    });
    const lm = await loadFromOptions(options, context);
    const template = chooseTemplate(String(options.template ?? 'auto'), lm.tokenizer);
    const rng = new Rng(context.seed);
    const questions = draw(data.testQuestions, n, rng);
    const answer = async (q: string, i: number) =>
      (await chat(lm, q, { template, maxNewTokens, temperature, onlyAnswer: true, seed: context.seed + i })).trim();
    mergeLora(lm.model); // faster generation; the adapter stays attached to be removed for the base set
    const generated: string[] = [];
    for (const [i, q] of questions.entries()) generated.push(await answer(q, i));
    let untuned: string[] | undefined;
    if (compareBase && loraLayers(lm.model).length) {
      removeLora(lm.model);
      untuned = [];
      for (const [i, q] of questions.entries()) untuned.push(await answer(q, i));
    }
    const texts: Record<string, string[]> = {
      Base: draw(data.plainTexts, n, rng),
      ...(untuned ? { 'Generated (no adapter)': untuned } : {}),
      Generated: generated,
      Style: draw(data.styledTexts, n, rng),
    };
    const sets: ScoredSet[] = [];
    if (options.scorer === 'judge') {
      const judge = await judgeFromOptions(options, context);
      for (const [name, list] of Object.entries(texts)) {
        const report = await judge.scoreAll(list);
        sets.push({ name, texts: list, scores: report.scores, failures: report.failures });
      }
    } else {
      const scorer = options.scorerFile
        ? StyleScorer.load(String(options.scorerFile))
        : await StyleScorer.train(data.styledTexts, data.plainTexts, { seed: context.seed });
      context.log(
        `offline style scorer: held-out accuracy ${scorer.report.heldOutAccuracy.toFixed(3)} (n=${scorer.report.heldOutExamples})`,
      );
      for (const [name, list] of Object.entries(texts))
        sets.push({ name, texts: list, scores: scorer.score(list), failures: 0 });
    }
    const run = RunFolder.create({
      lab: LAB,
      command: 'introdl lab3 score',
      config: {
        model: lm.info.source,
        adapter: lm.info.adapter,
        data: data.description,
        n,
        maxNewTokens,
        temperature,
        scorer: options.scorer,
      },
      seed: context.seed,
      backend: context.backend?.name,
      device: context.backend?.detail,
      out: context.out,
    });
    const files = await writeScoreReport(sets, run.output('scores'), `Style scores (${options.scorer})`);
    context.print(formatSummaries(sets));
    context.print(`histogram: ${files.png}`);
    run.finish(
      'completed',
      Object.fromEntries(sets.map((s) => [s.name, s.scores.reduce((a, b) => a + b, 0) / Math.max(1, s.scores.length)])),
    );
    lm.model.dispose();
    return 0;
  },
};
