import { BadFileError } from '@introdl/core';
import { DEFAULT_LIMITS, type Limits, type Rubric, type RubricTest } from './types.js';

const VISIBILITIES = new Set(['visible', 'hidden', 'after_due_date', 'after_published']);
const METRICS = new Set(['crossEntropy', 'accuracy', 'mse', 'meanAbsError']);
const KINDS = new Set(['reference', 'equals', 'range', 'metric', 'custom']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that `value` has the shape of a {@link Rubric} and returns it typed. Every problem is
 * collected and reported at once, each naming the field (`tests[3].points`) and what is wrong, in
 * one {@link BadFileError} whose file is `source` (the lab that exported it).
 */
export function validateRubric(value: unknown, source: string): Rubric {
  const problems: string[] = [];
  const need = (ok: boolean, message: string) => {
    if (!ok) problems.push(message);
  };
  if (!isObj(value)) throw new BadFileError(source, 'the `rubric` export is not an object');
  const r = value;
  need(typeof r.lab === 'string' && /^[a-z][\w-]*$/.test(r.lab), 'lab: must be a short name such as "lab1"');
  need(typeof r.title === 'string' && r.title.length > 0, 'title: must be a non-empty string');
  const strings = (field: string, required: boolean) => {
    const v = r[field];
    if (v === undefined && !required) return;
    need(
      Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0),
      `${field}: must be a list of paths`,
    );
  };
  strings('sources', false);
  strings('exclude', false);
  strings('publicTests', true);
  if (r.publicTestNames !== undefined) {
    const ok =
      isObj(r.publicTestNames) &&
      Object.values(r.publicTestNames).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string' && x));
    need(ok, 'publicTestNames: must map exercise ids to lists of test-name parts');
  }
  need(r.handout === undefined || typeof r.handout === 'string', 'handout: must be a path');
  need(typeof r.probes === 'string' && r.probes.length > 0, 'probes: must be the path of the probes module');
  if (r.limits !== undefined) {
    if (!isObj(r.limits)) problems.push('limits: must be an object');
    else {
      for (const [k, v] of Object.entries(r.limits)) {
        if (!(k in DEFAULT_LIMITS)) problems.push(`limits.${k}: unknown limit (use ${Object.keys(DEFAULT_LIMITS)})`);
        else need(typeof v === 'number' && v > 0, `limits.${k}: must be a positive number`);
      }
    }
  }
  if (!Array.isArray(r.tests) || r.tests.length === 0) problems.push('tests: must be a non-empty list');
  else {
    const names = new Set<string>();
    r.tests.forEach((t, i) => {
      validateTest(t, `tests[${i}]`, problems);
      if (isObj(t) && typeof t.name === 'string') {
        need(!names.has(t.name), `tests[${i}].name: "${t.name}" is used twice`);
        names.add(t.name);
      }
    });
  }
  if (problems.length) throw new BadFileError(source, `invalid rubric:\n  - ${problems.join('\n  - ')}`);
  return value as unknown as Rubric;
}

function validateTest(t: unknown, at: string, problems: string[]): void {
  const need = (ok: boolean, message: string) => {
    if (!ok) problems.push(`${at}.${message}`);
  };
  if (!isObj(t)) {
    problems.push(`${at}: must be an object`);
    return;
  }
  need(typeof t.name === 'string' && t.name.length > 0, 'name: must be a non-empty string');
  need(typeof t.exercise === 'string' && t.exercise.length > 0, 'exercise: must be an exercise id');
  need(typeof t.points === 'number' && Number.isFinite(t.points) && t.points > 0, 'points: must be a positive number');
  need(typeof t.probe === 'string' && /^[A-Za-z_$][\w$]*$/.test(t.probe), 'probe: must be an export name');
  need(t.visibility === undefined || VISIBILITIES.has(t.visibility as string), `visibility: use ${[...VISIBILITIES]}`);
  need(t.hint === undefined || typeof t.hint === 'string', 'hint: must be a string');
  need(t.seconds === undefined || (typeof t.seconds === 'number' && t.seconds > 0), 'seconds: must be positive');
  if (t.input !== undefined) need(isJson(t.input), 'input: must be plain JSON (no undefined, NaN, functions)');
  const e = t.expect;
  if (!isObj(e) || !KINDS.has(e.kind as string)) {
    problems.push(`${at}.expect: must be an object whose kind is one of ${[...KINDS].join(', ')}`);
    return;
  }
  const tol = (k: string) => need(e[k] === undefined || (typeof e[k] === 'number' && e[k] >= 0), `expect.${k}: >= 0`);
  tol('atol');
  tol('rtol');
  const bounds = () => {
    need(e.min !== undefined || e.max !== undefined, 'expect: give min, max or both');
    for (const k of ['min', 'max']) need(e[k] === undefined || typeof e[k] === 'number', `expect.${k}: number`);
    need(e.path === undefined || typeof e.path === 'string', 'expect.path: must be a string like "a.b.0"');
  };
  if (e.kind === 'equals') need('value' in e && isJson(e.value), 'expect.value: must be plain JSON');
  if (e.kind === 'range') bounds();
  if (e.kind === 'metric') {
    bounds();
    need(METRICS.has(e.metric as string), `expect.metric: use one of ${[...METRICS].join(', ')}`);
    need(isJson(e.targets), 'expect.targets: must be plain JSON');
  }
  if (e.kind === 'custom') need(typeof e.check === 'function', 'expect.check: must be a function (output, ctx)');
}

function isJson(v: unknown): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(isJson);
  if (isObj(v)) return Object.values(v).every(isJson);
  return false;
}

/** The rubric's limits with defaults filled in. */
export function limitsOf(rubric: Rubric): Limits {
  return { ...DEFAULT_LIMITS, ...rubric.limits };
}

/** Points available for the whole lab. */
export function maxScore(tests: readonly RubricTest[]): number {
  return tests.reduce((s, t) => s + t.points, 0);
}
