import type { SubmissionResult } from '../grade/types.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Puts untrusted text in a fence it cannot close. */
function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const f = '`'.repeat(longest + 1);
  return `${f}text\n${text.trimEnd()}\n${f}`;
}

/**
 * The report for one submission: score, a table per exercise, each failing test with its reason
 * and hint (the values behind a failure only for visible tests, so the report can go to the
 * student), the passing tests, and what the code printed, fenced and marked untrusted.
 */
export function markdownReport(r: SubmissionResult, title: string): string {
  const out: string[] = [];
  out.push(`# ${r.lab}: ${title} — ${r.name}`, '');
  out.push(`**Score: ${r.score} / ${r.maxScore}**`, '');
  out.push(
    `Graded ${r.source} in ${r.seconds.toFixed(1)} s (isolation: ${r.isolation}${r.children > 1 ? `, ${r.children} processes` : ''}).`,
  );
  if (r.root && r.root !== '.') out.push(`The workspace was found in \`${r.root}\`.`);
  out.push('');
  if (r.rejected) {
    out.push(`## Submission refused`, '', r.rejected, '');
  }
  out.push('| exercise | title | score | note |', '| --- | --- | --- | --- |');
  for (const e of r.exercises)
    out.push(`| ${e.id} | ${cell(e.title)} | ${e.score} / ${e.maxScore} | ${cell(e.problem ?? '')} |`);
  out.push('');
  const failing = r.tests.filter((t) => t.status === 'failed');
  if (failing.length && !r.rejected) {
    out.push('## Failing tests', '');
    for (const t of failing) {
      const hidden = t.visibility !== 'visible' ? ' (hidden test)' : '';
      out.push(`### ✗ ${t.name} — 0 / ${t.maxScore} (${t.exercise})${hidden}`, '');
      out.push(t.message ?? 'failed');
      if (t.detail && t.visibility === 'visible') out.push('', t.detail);
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
    out.push('## What the code printed (untrusted, not used for grading)', '', fence(printed.join('\n')), '');
  }
  return out.join('\n');
}
