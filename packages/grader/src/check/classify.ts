import { todoId } from '../regions/todo.js';
import type { WorkspaceManifest } from '../workspace/manifest.js';

/** One public test's result, from vitest's JSON report. */
export interface TestOutcome {
  /** Test file relative to the workspace. */
  file: string;
  /** Describe blocks and title joined with " > ". */
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  /** First line of the first failure message. */
  failure?: string;
}

/** Where one exercise stands. */
export type ExerciseState = 'done' | 'failing' | 'not started' | 'waiting' | 'no tests';

export interface ExerciseStatus {
  id: string;
  title: string;
  file: string;
  state: ExerciseState;
  passed: number;
  total: number;
  /** For `failing`: the first failing test and its first assertion. For `waiting`: the exercise it needs. */
  detail?: string;
}

/** What `check` reports. */
export interface CheckReport {
  lab: string;
  title: string;
  exercises: ExerciseStatus[];
  /** Public tests that name no exercise. */
  other: { passed: number; failed: TestOutcome[] };
  /** Test files that could not run at all (syntax error, failed import). */
  fileErrors: { file: string; message: string }[];
  done: number;
}

/** True when the test's name mentions the exercise id as a whole word (`lab1.2.1`, not `lab1.2.10`). */
export function namesExercise(name: string, id: string): boolean {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.])${escaped}(?![\\w]|\\.\\d)`).test(name);
}

/**
 * Sorts public test outcomes into exercises (a test belongs to every exercise its describe/test
 * names mention, or whose `tests` name parts it contains) and says where each exercise stands:
 * - done: all its tests pass;
 * - not started: every failure is its own `TODO(<id>)` error;
 * - waiting: every failure is another exercise's TODO (it calls code that is not written yet);
 * - failing: otherwise, with the first failing assertion.
 */
export function classify(
  manifest: WorkspaceManifest,
  outcomes: TestOutcome[],
  fileErrors: { file: string; message: string }[] = [],
): CheckReport {
  const claimed = new Set<TestOutcome>();
  const exercises = manifest.exercises.map((e): ExerciseStatus => {
    const mine = (t: TestOutcome) => namesExercise(t.name, e.id) || (e.tests ?? []).some((p) => t.name.includes(p));
    const tests = outcomes.filter((t) => t.status !== 'skipped' && mine(t));
    for (const t of tests) claimed.add(t);
    const passed = tests.filter((t) => t.status === 'passed').length;
    const base = { id: e.id, title: e.title, file: e.file, passed, total: tests.length };
    if (!tests.length) return { ...base, state: 'no tests' };
    const failed = tests.filter((t) => t.status === 'failed');
    if (!failed.length) return { ...base, state: 'done' };
    const todos = failed.map((t) => todoId(t.failure ?? ''));
    const real = failed.find((_, i) => todos[i] === undefined);
    if (real) return { ...base, state: 'failing', detail: `${real.name}: ${real.failure ?? 'failed'}` };
    if (todos.includes(e.id)) return { ...base, state: 'not started' };
    return { ...base, state: 'waiting', detail: `needs ${[...new Set(todos)].join(', ')} first` };
  });
  const rest = outcomes.filter((t) => !claimed.has(t) && t.status !== 'skipped');
  return {
    lab: manifest.lab,
    title: manifest.title,
    exercises,
    other: {
      passed: rest.filter((t) => t.status === 'passed').length,
      failed: rest.filter((t) => t.status === 'failed'),
    },
    fileErrors,
    done: exercises.filter((e) => e.state === 'done').length,
  };
}
