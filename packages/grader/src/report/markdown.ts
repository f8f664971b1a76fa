import type { SubmissionResult } from '../grade/types.js';
import { markdownCell, markdownQuote } from './untrusted.js';

/**
 * The report for one submission: score, a table per exercise, each failing test with its reason
 * and hint (the values behind a failure only for visible tests, so the report can go to the
 * student), the passing tests, and what the code printed. Everything a submission can influence
 * (messages, values, printed text, paths) is escaped and quoted (see untrusted.ts): it renders as
 * text and cannot pose as a heading, a table row or a passing line of the report.
 */
export function markdownReport(r: SubmissionResult, title: string): string {
  const out: string[] = [];
  out.push(`# ${r.lab}: ${title} — ${markdownCell(r.name)}`, '');
  out.push(`**Score: ${r.score} / ${r.maxScore}**`, '');
  out.push(
    `Graded ${markdownCell(r.source)} in ${r.seconds.toFixed(1)} s (isolation: ${r.isolation}${r.children > 1 ? `, ${r.children} processes` : ''}).`,
  );
  if (r.root && r.root !== '.') out.push(`The workspace was found in ${markdownCell(r.root)}.`);
  out.push('');
  if (r.rejected) {
    out.push(`## Submission refused`, '', markdownQuote(r.rejected), '');
  }
  out.push('| exercise | title | score | note |', '| --- | --- | --- | --- |');
  for (const e of r.exercises)
    out.push(`| ${e.id} | ${markdownCell(e.title)} | ${e.score} / ${e.maxScore} | ${markdownCell(e.problem ?? '')} |`);
  out.push('');
  const failing = r.tests.filter((t) => t.status === 'failed');
  if (failing.length && !r.rejected) {
    out.push('## Failing tests', '');
    for (const t of failing) {
      const hidden = t.visibility !== 'visible' ? ' (hidden test)' : '';
      out.push(`### ✗ ${t.name} — 0 / ${t.maxScore} (${t.exercise})${hidden}`, '');
      out.push(markdownQuote(t.message ?? 'failed'));
      if (t.detail && t.visibility === 'visible') out.push('>', markdownQuote(t.detail));
      if (t.hint) out.push('', `Hint: ${t.hint}`);
      out.push('');
    }
  }
  const passing = r.tests.filter((t) => t.status === 'passed');
  if (passing.length) {
    out.push('## Passing tests', '');
    for (const t of passing) out.push(`- ✓ ${t.name} — ${t.score} / ${t.maxScore} (${t.exercise})`);
    out.push('');
  }
  const printed = [r.stdout.trim() && `stdout:\n${r.stdout}`, r.stderr.trim() && `stderr:\n${r.stderr}`].filter(
    Boolean,
  );
  if (printed.length) {
    out.push('## What the code printed (untrusted, not used for grading)', '', markdownQuote(printed.join('\n')), '');
  }
  return out.join('\n');
}
