import type { SubmissionResult } from '../grade/types.js';
import type { Lab } from '../lab/load-lab.js';

/**
 * One CSV field: on one line (newlines become ` ⏎ `), quoted when it needs it, and a text that a
 * spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
 * return, also after spaces) gets a leading `'`, as OWASP advises against CSV injection.
 */
export function csvField(v: string | number): string {
  if (typeof v === 'number') return String(v);
  let s = v.replace(/\r\n?|\n/g, ' ⏎ ');
  if (/^[\s\u3000]*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/.test(s)) s = `'${s}`;
  return /[",]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
