import type { SubmissionResult, TestResult } from '../grade/types.js';
import type { Visibility } from '../rubric/types.js';
import { markdownCell, markdownLiteral, markdownQuote } from './untrusted.js';

/** One test in Gradescope's results.json. */
export interface GradescopeTest {
  name: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
  output_format: 'md';
  visibility: Visibility;
  tags: string[];
  extra_data: { exercise: string; execution_time?: number };
}

/** Gradescope's results.json, as its autograder specification documents it. */
export interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  output_format: 'md';
  stdout_visibility: 'hidden' | 'visible';
  tests: GradescopeTest[];
  extra_data: { lab: string; max_score: number; isolation: string; rejected?: string };
}

/**
 * The Markdown Gradescope shows under a test: what went wrong and the values (visible tests only),
 * quoted and escaped because they can hold the submission's own text, then the rubric's hint.
 */
export function testOutput(t: TestResult): string {
  if (t.status === 'passed') return 'passed';
  const lines = [markdownQuote(t.message ?? 'failed')];
  if (t.detail && t.visibility === 'visible') lines.push('>', markdownQuote(t.detail));
  if (t.hint) lines.push('', `Hint: ${t.hint}`);
  return lines.join('\n');
}

/** Converts a graded submission to Gradescope's results.json. The student's own output is never included. */
export function toGradescope(r: SubmissionResult): GradescopeResults {
  const summary = r.rejected
    ? `Your submission was refused:\n\n${markdownQuote(r.rejected)}`
    : [
        `Score ${r.score} / ${r.maxScore}`,
        '',
        ...r.exercises.map(
          (e) =>
            `- ${e.id} ${markdownLiteral(e.title)}: ${e.score} / ${e.maxScore}${e.problem ? ` (${markdownCell(e.problem)})` : ''}`,
        ),
      ].join('\n');
  return {
    score: r.score,
    execution_time: Math.round(r.seconds * 1000) / 1000,
    output: summary,
    output_format: 'md',
    stdout_visibility: 'hidden',
    tests: r.tests.map((t) => ({
      name: t.name,
      score: t.score,
      max_score: t.maxScore,
      status: t.status,
      output: testOutput(t),
      output_format: 'md',
      visibility: t.visibility,
      tags: [t.exercise],
      extra_data: { exercise: t.exercise, ...(t.seconds === undefined ? {} : { execution_time: t.seconds }) },
    })),
    extra_data: {
      lab: r.lab,
      max_score: r.maxScore,
      isolation: r.isolation,
      ...(r.rejected ? { rejected: r.rejected } : {}),
    },
  };
}

/**
 * results.json as text. `<`, `>` and `&` are written as JSON escapes (`\u003c`…), so the file holds
 * no markup even where a value (such as `extra_data.rejected`) keeps a submission's raw text.
 */
export function gradescopeJson(results: GradescopeResults | Record<string, unknown>): string {
  const hex = (c: string) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
  return `${JSON.stringify(results, null, 2).replace(/[<>&]/g, hex)}\n`;
}
