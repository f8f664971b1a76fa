import type { SubmissionResult } from '../grade/types.js';
import type { Lab } from '../lab/load-lab.js';

/** Quotes a CSV field when it needs it; neutralises leading = + - @ so spreadsheets do not run it. */
export function csvField(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The class summary: one row per submission, a column per exercise. */
export function summaryCsv(lab: Lab, results: SubmissionResult[]): string {
  const head = ['name', 'score', 'max_score', ...lab.exercises.map((e) => e.id), 'refused', 'seconds', 'source'];
  const rows = results.map((r) => [
    r.name,
    r.score,
    r.maxScore,
    ...lab.exercises.map((e) => r.exercises.find((x) => x.id === e.id)?.score ?? 0),
    r.rejected ?? '',
    r.seconds.toFixed(1),
    r.source,
  ]);
  return `${[head, ...rows].map((row) => row.map(csvField).join(',')).join('\n')}\n`;
}
