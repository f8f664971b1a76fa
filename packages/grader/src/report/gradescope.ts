import type { SubmissionResult, TestResult } from '../grade/types.js';
import type { Visibility } from '../rubric/types.js';

/** One test in Gradescope's results.json. */
export interface GradescopeTest {
  name: string;
  score: number;
  max_score: number;
  status: 'passed' | 'failed';
  output: string;
  visibility: Visibility;
  tags: string[];
  extra_data: { exercise: string; execution_time?: number };
}

/** Gradescope's results.json, as its autograder specification documents it. */
export interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  stdout_visibility: 'hidden' | 'visible';
  tests: GradescopeTest[];
  extra_data: { lab: string; max_score: number; isolation: string; rejected?: string };
}

/** The text Gradescope shows under a test: what went wrong, the values (visible tests only), the hint. */
export function testOutput(t: TestResult): string {
  if (t.status === 'passed') return 'passed';
  const lines = [t.message ?? 'failed'];
  if (t.detail && t.visibility === 'visible') lines.push(t.detail);
  if (t.hint) lines.push(`Hint: ${t.hint}`);
  return lines.join('\n');
}

/** Converts a graded submission to Gradescope's results.json. The student's own output is never included. */
export function toGradescope(r: SubmissionResult): GradescopeResults {
  const summary = r.rejected
    ? `Your submission was refused: ${r.rejected}`
    : [
        `Score ${r.score} / ${r.maxScore}`,
        ...r.exercises.map(
          (e) => `  ${e.id} ${e.title}: ${e.score} / ${e.maxScore}${e.problem ? ` (${e.problem})` : ''}`,
        ),
      ].join('\n');
  return {
    score: r.score,
    execution_time: Math.round(r.seconds * 1000) / 1000,
    output: summary,
    stdout_visibility: 'hidden',
    tests: r.tests.map((t) => ({
      name: t.name,
      score: t.score,
      max_score: t.maxScore,
      status: t.status,
      output: testOutput(t),
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
