import type { CheckReport, ExerciseState } from './classify.js';

const MARK: Record<ExerciseState, string> = {
  done: '✓ done',
  failing: '✗ failing',
  'not started': '· not started',
  waiting: '… waiting',
  'no tests': '? no public test',
};

/** The table `check` prints: one line per exercise, then what the student should do next. */
export function formatCheck(report: CheckReport): string {
  const lines: string[] = [];
  const total = report.exercises.length;
  lines.push(`${report.lab}: ${report.title} — ${report.done} of ${total} exercises done`);
  lines.push('');
  const idWidth = Math.max(8, ...report.exercises.map((e) => e.id.length));
  const stateWidth = Math.max(...Object.values(MARK).map((m) => m.length));
  lines.push(`  ${'exercise'.padEnd(idWidth)}  ${'status'.padEnd(stateWidth)}  tests  title`);
  for (const e of report.exercises) {
    const tests = `${e.passed}/${e.total}`.padEnd(5);
    lines.push(`  ${e.id.padEnd(idWidth)}  ${MARK[e.state].padEnd(stateWidth)}  ${tests}  ${e.title} (${e.file})`);
    if (e.detail) lines.push(`  ${' '.repeat(idWidth)}  ${' '.repeat(stateWidth)}         ↳ ${e.detail}`);
  }
  const o = report.other;
  if (o.passed + o.failed.length > 0) {
    lines.push('');
    lines.push(`other public tests: ${o.passed} passed, ${o.failed.length} failed`);
    for (const t of o.failed) lines.push(`  ✗ ${t.name}: ${t.failure ?? 'failed'}`);
  }
  if (report.fileErrors.length) {
    lines.push('');
    lines.push('test files that could not run (fix these first):');
    for (const f of report.fileErrors) lines.push(`  ${f.file}: ${f.message}`);
  }
  const next = report.exercises.find((e) => e.state === 'failing') ?? report.exercises.find((e) => e.state !== 'done');
  lines.push('');
  if (!next && !report.fileErrors.length)
    lines.push('All exercises pass their public tests. The grader also runs hidden tests.');
  else if (next)
    lines.push(`Next: ${next.id} "${next.title}" in ${next.file}. Run \`npm test\` for vitest's full output.`);
  return lines.join('\n');
}
