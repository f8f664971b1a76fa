import { IntrodlError } from '@introdl/core';
import type { Lab } from '../lab/load-lab.js';
import { todoId } from '../regions/todo.js';
import { MAX_PRINTED_CHARS, plainText } from '../report/untrusted.js';
import type { Json, Limits, RubricTest } from '../rubric/types.js';
import { formatError } from '../sandbox/run-child.js';
import { readSubmission } from '../submission/intake.js';
import type { ZipLimits } from '../submission/zip.js';
import { referenceFiles, splice } from './bundle.js';
import { judge } from './compare.js';
import { type Environment, execute } from './execute.js';
import type { ExerciseScore, SubmissionResult, TestResult } from './types.js';

/** What every submission of a batch shares. */
export interface GradeContext {
  lab: Lab;
  env: Environment;
  limits: Limits;
  /** The reference solution's output per test index (for `reference` and `custom` tests that ask). */
  reference: Map<number, Json>;
  /** A folder only the grading process can read, for extracted zips. */
  scratch: string;
  zipLimits?: ZipLimits;
}

/** Errors V8 throws (rather than dies of) when an allocation hits the memory limit. */
const OUT_OF_MEMORY = /allocation failed|Invalid (typed )?array length|out of memory|Cannot allocate/i;

const needsReference = (t: RubricTest) =>
  t.expect.kind === 'reference' || (t.expect.kind === 'custom' && t.expect.needsReference === true);

/**
 * Runs the lab's own solution through the same sandbox to get the expected outputs. They stay in
 * this process; a test that fails on the solution is a bug in the lab or its rubric.
 */
export async function computeReference(lab: Lab, env: Environment, limits: Limits): Promise<Map<number, Json>> {
  const tests = lab.rubric.tests.map((test, i) => ({ i, test })).filter(({ test }) => needsReference(test));
  const reference = new Map<number, Json>();
  if (!tests.length) return reference;
  const run = await execute(lab, referenceFiles(lab), tests, limits, env);
  for (const { i, test } of tests) {
    const a = run.answers.get(i);
    if (a?.ok) reference.set(i, a.output);
    else {
      const why = a ? formatError(a.error) : (run.failures.get(i) ?? 'no answer');
      throw new IntrodlError(`the reference solution of ${lab.name} fails rubric test "${test.name}": ${why}`);
    }
  }
  return reference;
}

/** Grades one submission (a folder or a zip) and returns its result; never throws for bad submissions. */
export async function gradeSubmission(ctx: GradeContext, source: string, name: string): Promise<SubmissionResult> {
  const started = Date.now();
  const { lab } = ctx;
  const tests = lab.rubric.tests.map((test, i) => ({ i, test }));
  const base = {
    name,
    source,
    lab: lab.name,
    maxScore: tests.reduce((s, { test }) => s + test.points, 0),
    isolation: ctx.env.isolation.level,
  };
  const intake = await readSubmission(lab, source, ctx.scratch, ctx.zipLimits);
  if (intake.rejected) {
    const results = tests.map(({ test }) => failed(test, `submission refused: ${intake.rejected}`));
    return finish(
      lab,
      { ...base, rejected: intake.rejected, stdout: '', stderr: '', children: 0 },
      results,
      new Map(),
      started,
    );
  }
  const spliced = await splice(lab, intake.bodies);
  const problems = new Map([...intake.problems, ...spliced.problems]);
  const run = await execute(lab, spliced.files, tests, ctx.limits, ctx.env);
  const results: TestResult[] = [];
  for (const { i, test } of tests) {
    const problem = problems.get(test.exercise);
    const prefix = problem ? `${problem}; ` : '';
    const answer = run.answers.get(i);
    if (!answer) {
      results.push(failed(test, `${prefix}${run.failures.get(i) ?? 'no answer'}`));
      continue;
    }
    const seconds = answer.ms / 1000;
    if (!answer.ok) {
      const todo = todoId(answer.error.message);
      if (todo === test.exercise) {
        results.push({
          ...failed(test, `${prefix}not started: ${test.exercise} still throws its TODO`),
          notStarted: true,
          seconds,
        });
      } else if (todo) {
        results.push({ ...failed(test, `${prefix}needs exercise ${todo} first (it still throws its TODO)`), seconds });
      } else if (answer.error.name === 'SandboxDenied') {
        results.push({ ...failed(test, `${prefix}blocked: ${answer.error.message}`), seconds });
      } else if (OUT_OF_MEMORY.test(answer.error.message)) {
        const why = `ran out of memory (limit ${ctx.limits.memoryMb} MB): ${formatError(answer.error)}`;
        results.push({ ...failed(test, `${prefix}${why}`), seconds });
      } else {
        results.push({ ...failed(test, `${prefix}your code threw ${formatError(answer.error)}`), seconds });
      }
      continue;
    }
    const mismatch = await judge(test, answer.output, ctx.reference.get(i));
    if (mismatch) {
      results.push({
        ...failed(test, `${prefix}${mismatch.summary}`),
        ...(mismatch.detail ? { detail: mismatch.detail } : {}),
        seconds,
      });
    } else {
      results.push({ ...passed(test), seconds });
    }
  }
  return finish(
    lab,
    { ...base, root: intake.root, stdout: run.stdout, stderr: run.stderr, children: run.children },
    results,
    problems,
    started,
  );
}

function common(test: RubricTest) {
  return {
    name: test.name,
    exercise: test.exercise,
    maxScore: test.points,
    visibility: test.visibility ?? 'visible',
    ...(test.hint ? { hint: test.hint } : {}),
  } as const;
}

function failed(test: RubricTest, message: string): TestResult {
  return { ...common(test), score: 0, status: 'failed', message };
}

function passed(test: RubricTest): TestResult {
  return { ...common(test), score: test.points, status: 'passed' };
}

function finish(
  lab: Lab,
  base: Omit<SubmissionResult, 'score' | 'tests' | 'exercises' | 'seconds'>,
  tests: TestResult[],
  problems: Map<string, string>,
  started: number,
): SubmissionResult {
  const exercises = lab.exercises.map((e): ExerciseScore => {
    const mine = tests.filter((t) => t.exercise === e.id);
    const problem = problems.get(e.id);
    return {
      id: e.id,
      title: e.title,
      score: mine.reduce((s, t) => s + t.score, 0),
      maxScore: mine.reduce((s, t) => s + t.maxScore, 0),
      ...(problem ? { problem } : {}),
    };
  });
  const score = tests.reduce((s, t) => s + t.score, 0);
  return printable({ ...base, score, tests, exercises, seconds: (Date.now() - started) / 1000 });
}

/**
 * Every text of a result that a submission can influence, made printable and bounded (see
 * report/untrusted.ts). Done once, here, so the terminal log, the CSV, results.json and report.md
 * all get the same clean text.
 */
function printable(r: SubmissionResult): SubmissionResult {
  const opt = (s: string | undefined) => (s === undefined ? undefined : plainText(s));
  const tests = r.tests.map((t) => ({
    ...t,
    ...(t.message === undefined ? {} : { message: plainText(t.message) }),
    ...(t.detail === undefined ? {} : { detail: plainText(t.detail) }),
  }));
  const exercises = r.exercises.map((e) => (e.problem === undefined ? e : { ...e, problem: plainText(e.problem) }));
  return {
    ...r,
    name: plainText(r.name, 200),
    source: plainText(r.source),
    tests,
    exercises,
    stdout: plainText(r.stdout, MAX_PRINTED_CHARS),
    stderr: plainText(r.stderr, MAX_PRINTED_CHARS),
    ...(r.rejected === undefined ? {} : { rejected: opt(r.rejected) }),
    ...(r.root === undefined ? {} : { root: opt(r.root) }),
  };
}
