import type { Visibility } from '../rubric/types.js';

/** One rubric test's result for one submission. */
export interface TestResult {
  name: string;
  exercise: string;
  /** Points available. */
  maxScore: number;
  /** Points earned (all or nothing). */
  score: number;
  status: 'passed' | 'failed';
  /** True when the exercise's stub still throws its TODO. */
  notStarted?: boolean;
  /** Why it failed, safe to show students even for hidden tests. */
  message?: string;
  /** Values behind the failure (expected vs got); shown for visible tests only. */
  detail?: string;
  hint?: string;
  visibility: Visibility;
  /** Wall seconds the test took in the child (as the grading process measured it). */
  seconds?: number;
}

/** Score per exercise. */
export interface ExerciseScore {
  id: string;
  title: string;
  score: number;
  maxScore: number;
  /** Why the region could not be taken from the submission, if so. */
  problem?: string;
}

/** Everything about one graded submission. */
export interface SubmissionResult {
  /** Short name (from the file or folder name), unique in the batch. */
  name: string;
  /** The path that was graded. */
  source: string;
  lab: string;
  score: number;
  maxScore: number;
  tests: TestResult[];
  exercises: ExerciseScore[];
  /** Set when the whole submission was refused (unsafe zip, no exercise files). */
  rejected?: string;
  /** Where in the submission the workspace was found. */
  root?: string;
  /** Isolation level the code ran under. */
  isolation: string;
  /** What the student's code printed: untrusted, never parsed. */
  stdout: string;
  stderr: string;
  /** Wall seconds for the whole submission. */
  seconds: number;
  /** Children started (more than 1 means some test stopped its child). */
  children: number;
}
