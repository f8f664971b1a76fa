import { writeFileAtomicSync, writePlot } from '@introdl/core';

/**
 * The course's three sets, scored by the judge or the offline scorer: base (the plain dolly
 * responses: negative control), generated (the tuned model's answers to test questions) and style
 * (the styled training answers: positive control). Reported as mean ± spread and a histogram.
 */

/** One scored set. */
export interface ScoredSet {
  name: string;
  texts: string[];
  scores: number[];
  /** Texts that got no score (judge failures). */
  failures: number;
}

/** Mean, population standard deviation (NumPy's default), extremes and count. */
export interface ScoreSummary {
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  failures: number;
}

export function summarize(scores: readonly number[], failures = 0): ScoreSummary {
  const n = scores.length;
  if (n === 0) return { n, mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN, failures };
  const mean = scores.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { n, mean, std, min: Math.min(...scores), max: Math.max(...scores), failures };
}

/** `Base: 0.01 ± 0.02 (n=20) | Generated: …`, with failures named when there are any. */
export function formatSummaries(sets: readonly ScoredSet[]): string {
  return sets
    .map((s) => {
      const m = summarize(s.scores, s.failures);
      const fail = s.failures ? `, ${s.failures} failed` : '';
      return `${s.name}: ${m.mean.toFixed(2)} ± ${m.std.toFixed(2)} (n=${m.n}${fail})`;
    })
    .join(' | ');
}

/** Counts per bin of [0, 1] split into `bins` equal bins (1.0 falls in the last), per set. */
export function histogram(sets: readonly ScoredSet[], bins = 6): { bin: string; set: string; count: number }[] {
  const rows: { bin: string; set: string; count: number }[] = [];
  const label = (i: number) => `${(i / bins).toFixed(2)}–${((i + 1) / bins).toFixed(2)}`;
  for (const s of sets) {
    const counts = new Array<number>(bins).fill(0);
    for (const v of s.scores) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]++;
    counts.forEach((count, i) => {
      rows.push({ bin: label(i), set: s.name, count });
    });
  }
  return rows;
}

/** The histogram as a Vega-Lite grouped bar chart (the course's seaborn `multiple="dodge"`, bins=6). */
export function histogramSpec(sets: readonly ScoredSet[], title: string, bins = 6) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: 260,
    data: { values: histogram(sets, bins) },
    mark: 'bar',
    encoding: {
      x: { field: 'bin', type: 'ordinal', title: 'style score', sort: null },
      xOffset: { field: 'set', sort: sets.map((s) => s.name) },
      y: { field: 'count', type: 'quantitative', title: 'texts' },
      color: { field: 'set', type: 'nominal', sort: sets.map((s) => s.name), title: 'set' },
    },
  } as const;
}

/** Writes `<base>.png`, `<base>.svg` (the histogram) and `<base>.json` (every score and summary). */
export async function writeScoreReport(sets: readonly ScoredSet[], base: string, title: string) {
  // biome-ignore lint/suspicious/noExplicitAny: the spec literal is a valid TopLevelSpec
  const files = await writePlot(histogramSpec(sets, title) as any, base);
  const json = `${base}.json`;
  writeFileAtomicSync(
    json,
    `${JSON.stringify(
      { title, sets: sets.map((s) => ({ ...s, summary: summarize(s.scores, s.failures) })) },
      null,
      2,
    )}\n`,
  );
  return { ...files, json };
}
