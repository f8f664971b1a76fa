/**
 * The rubric a lab exports as `rubric` from its entry. It is a plain object literal (JSON apart
 * from the optional `custom` check functions), so labs never import the grader; the grader
 * validates it when it loads the lab (see `validateRubric`). docs/grading.md documents each field.
 */

/** Any JSON value: what goes to the student's code and what comes back. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Gradescope's visibility of one test. `visible` tests are the public ones. */
export type Visibility = 'visible' | 'hidden' | 'after_due_date' | 'after_published';

/** Resource limits for the child process that runs a submission. */
export interface Limits {
  /** Wall-clock seconds one test may take before it is stopped. */
  testSeconds: number;
  /** Wall-clock seconds for the whole submission (all tests and restarts). */
  totalSeconds: number;
  /** CPU seconds of one child process (the kernel kills it past this). */
  cpuSeconds: number;
  /** Memory of one child process in MiB (JS heap and native buffers together). */
  memoryMb: number;
}

/** The limits used when a rubric does not say. */
export const DEFAULT_LIMITS: Limits = { testSeconds: 60, totalSeconds: 600, cpuSeconds: 600, memoryMb: 4096 };

/** Built-in metrics the grading process computes from the child's raw output and its own targets. */
export type MetricName = 'crossEntropy' | 'accuracy' | 'mse' | 'meanAbsError';

/** What the grading process does with what a probe returned. */
export type Expectation =
  /** Same as the reference solution's output for the same input, within tolerances (default 1e-5). */
  | { kind: 'reference'; atol?: number; rtol?: number }
  /** Equal to a literal value (numbers within tolerances). */
  | { kind: 'equals'; value: Json; atol?: number; rtol?: number }
  /**
   * A number in the output (at `path`, such as `"loss"` or `"metrics.0"`) lies in [min, max].
   * The child reports this number itself, so a student could hard-code it: pair it with a
   * `reference` or `metric` test, or prefer `metric`/`custom`, which the grading process computes.
   */
  | { kind: 'range'; path?: string; min?: number; max?: number }
  /** A metric of the output against `targets` that only the grading process holds, in [min, max]. */
  | { kind: 'metric'; metric: MetricName; targets: Json; path?: string; min?: number; max?: number }
  /**
   * A check function run in the grading process (TypeScript rubrics only). Return `undefined`
   * when the output is right, or a one-line message saying what is wrong.
   */
  | {
      kind: 'custom';
      /** Also run the probe on the reference solution and pass its output as `reference`. */
      needsReference?: boolean;
      check: (
        output: Json,
        context: { input: Json; reference?: Json },
      ) => string | undefined | Promise<string | undefined>;
    };

/** One graded test: a probe called on the student's code with `input`, then checked. */
export interface RubricTest {
  /** Unique name, shown to students (Gradescope's test name). */
  name: string;
  /** The exercise it grades (`lab1.2.1`); must be a region in the lab's source. */
  exercise: string;
  /** Points for passing; all or nothing. */
  points: number;
  /** Name of an exported function of the probes module: `(input) => output` (may be async). */
  probe: string;
  /** JSON input sent to the probe (default null). */
  input?: Json;
  expect: Expectation;
  /** Default `visible`. Any other value makes it a hidden test: its input and output are not shown. */
  visibility?: Visibility;
  /** Shown in the report when the test fails. */
  hint?: string;
  /** Overrides `limits.testSeconds` for this test. */
  seconds?: number;
}

/** What a lab exports as `rubric`. Paths are relative to the lab's package folder. */
export interface Rubric {
  /** The short name used on the command line: `lab1`. */
  lab: string;
  /** Human title, used in reports. */
  title: string;
  /** Folders or files that make up the student's workspace source (default `["src"]`). */
  sources?: string[];
  /** Files or globs (`*`, `**`) under `sources` that students never get (commands, rubric, private tests). */
  exclude?: string[];
  /** Test files copied into the workspace; `check` runs them. Others matching *.test.ts / *.spec.ts are left out. */
  publicTests: string[];
  /**
   * For public tests whose names do not mention their exercise id: per exercise id, parts of test
   * names ("describe > test") that belong to it. A test whose name contains the id belongs anyway.
   */
  publicTestNames?: Record<string, string[]>;
  /** The student handout (Markdown), copied into the workspace as HANDOUT.md. */
  handout?: string;
  /** Module whose named exports are the probes; bundled with the student's code, never copied to the workspace. */
  probes: string;
  /** Resource limits for grading; each field defaults to {@link DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  tests: RubricTest[];
}
