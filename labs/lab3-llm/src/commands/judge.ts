import { BadFlagError, type CommandSpec } from '@introdl/core';
import { readText } from '../data/readers.js';
import { formatSummaries } from '../eval/score-sets.js';
import { JUDGE_OPTIONS, judgeFromOptions } from './judge-options.js';

/** Texts from --text or --texts (one per line, or JSON Lines with a "text" field). */
export function textsFromOptions(options: Record<string, unknown>): string[] {
  if (typeof options.text === 'string') return [options.text];
  if (typeof options.texts !== 'string') throw new BadFlagError('give --text "…" or --texts <file>');
  const lines = readText(options.texts)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.map((l) => {
    if (!l.startsWith('{')) return l;
    try {
      const row = JSON.parse(l);
      return typeof row.text === 'string' ? row.text : l;
    } catch {
      return l;
    }
  });
}

/** `introdl lab3 judge`: score texts with an LLM judge. */
export const judgeCommand: CommandSpec = {
  name: 'judge',
  description: 'score texts for a style with an LLM judge on any OpenAI-compatible endpoint',
  options: [
    { flags: '--text <text>', description: 'one text to score' },
    { flags: '--texts <file>', description: 'texts to score: one per line, or JSON Lines with "text"' },
    ...JUDGE_OPTIONS,
  ],
  async run({ options, context }) {
    const texts = textsFromOptions(options);
    const judge = await judgeFromOptions(options, context);
    const report = await judge.scoreAll(texts, (r) => {
      const shown = r.text.length > 70 ? `${r.text.slice(0, 67)}...` : r.text;
      context.print(
        `${r.score === undefined ? 'FAILED' : r.score.toFixed(2)}\t${shown}${r.error ? `\t(${r.error})` : ''}`,
      );
    });
    context.print(formatSummaries([{ name: 'Judged', texts, scores: report.scores, failures: report.failures }]));
    if (report.failures) {
      context.log(
        `${report.failures} of ${texts.length} texts got no score: ${Object.entries(report.failureReasons)
          .map(([k, v]) => `${v}× ${k}`)
          .join(', ')}`,
      );
    }
    return report.scores.length === 0 ? 1 : 0;
  },
};
