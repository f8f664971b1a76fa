import type { Json, MetricName, RubricTest } from '../rubric/types.js';

/** Why an output is wrong: `summary` is safe to show for hidden tests, `detail` names the values. */
export interface Mismatch {
  summary: string;
  detail?: string;
}

/** Turns the child's `{ $number: "NaN" }` tags back into numbers. */
export function revive(v: Json): unknown {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$number' && typeof v.$number === 'string') return Number(v.$number);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  }
  return v;
}

const show = (v: unknown) => {
  const s = typeof v === 'number' ? String(v) : JSON.stringify(v);
  return s && s.length > 80 ? `${s.slice(0, 77)}...` : s;
};
const kind = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/**
 * Compares `actual` with `expected` deeply: numbers within `atol + rtol·|expected|` (NaN equals NaN),
 * arrays item by item, objects key by key. Returns the first difference or undefined.
 */
export function deepClose(
  actual: unknown,
  expected: unknown,
  atol: number,
  rtol: number,
  at = '',
): Mismatch | undefined {
  const where = at || 'the output';
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return { summary: `${where} should be a number`, detail: `got ${kind(actual)}` };
    if (Number.isNaN(expected) && Number.isNaN(actual)) return undefined;
    if (actual === expected) return undefined;
    if (Math.abs(actual - expected) <= atol + rtol * Math.abs(expected)) return undefined;
    return { summary: `wrong value at ${where}`, detail: `expected ${show(expected)}, got ${show(actual)}` };
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return { summary: `${where} should be an array`, detail: `got ${kind(actual)}` };
    if (actual.length !== expected.length) {
      return {
        summary: `${where} has the wrong length`,
        detail: `expected ${expected.length} items, got ${actual.length}`,
      };
    }
    for (let i = 0; i < expected.length; i++) {
      const m = deepClose(actual[i], expected[i], atol, rtol, `${at}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) {
      return { summary: `${where} should be an object`, detail: `got ${kind(actual)}` };
    }
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const missing = Object.keys(e).filter((k) => !(k in a));
    const extra = Object.keys(a).filter((k) => !(k in e));
    if (missing.length) return { summary: `${where} lacks key ${JSON.stringify(missing[0])}` };
    if (extra.length) return { summary: `${where} has an unexpected key ${JSON.stringify(extra[0])}` };
    for (const k of Object.keys(e)) {
      const m = deepClose(a[k], e[k], atol, rtol, `${at}.${k}`);
      if (m) return m;
    }
    return undefined;
  }
  if (actual !== expected)
    return { summary: `wrong value at ${where}`, detail: `expected ${show(expected)}, got ${show(actual)}` };
  return undefined;
}

/** The value at `path` (`a.b.0`) inside `v`. */
export function at(v: unknown, path?: string): unknown {
  if (!path) return v;
  let cur = v;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const isMatrix = (v: unknown): v is number[][] =>
  Array.isArray(v) && v.every((r) => Array.isArray(r) && r.every((x) => typeof x === 'number'));
const flat = (v: unknown): number[] | undefined => {
  const out: number[] = [];
  const walk = (x: unknown): boolean => {
    if (typeof x === 'number') {
      out.push(x);
      return true;
    }
    return Array.isArray(x) && x.every(walk);
  };
  return walk(v) ? out : undefined;
};

/** A metric of `output` against `targets`, or a message saying why it cannot be computed. */
export function metric(name: MetricName, output: unknown, targets: unknown): number | string {
  if (name === 'accuracy' || name === 'crossEntropy') {
    if (!isMatrix(output)) return 'the output should be a matrix of scores, one row per example';
    const t = flat(targets) ?? [];
    if (output.length !== t.length) return `expected ${t.length} rows of scores, got ${output.length}`;
    let sum = 0;
    for (let i = 0; i < t.length; i++) {
      const row = output[i];
      if (name === 'accuracy') {
        let best = 0;
        for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
        sum += best === t[i] ? 1 : 0;
      } else {
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
        if (!(t[i] >= 0 && t[i] < row.length)) return `row ${i} has no score for class ${t[i]}`;
        sum += lse - row[t[i]];
      }
    }
    return sum / t.length;
  }
  const a = flat(output);
  const b = flat(targets);
  if (!a) return 'the output should be numbers';
  if (!b || a.length !== b.length) return `expected ${b?.length ?? 0} numbers, got ${a.length}`;
  const err = a.map((x, i) => x - b[i]);
  return name === 'mse'
    ? err.reduce((s, e) => s + e * e, 0) / a.length
    : err.reduce((s, e) => s + Math.abs(e), 0) / a.length;
}

function inRange(label: string, value: number, min?: number, max?: number): Mismatch | undefined {
  if (Number.isNaN(value)) return { summary: `${label} is NaN` };
  if (min !== undefined && value < min) return { summary: `${label} ${fmt(value)} is below the required ${min}` };
  if (max !== undefined && value > max) return { summary: `${label} ${fmt(value)} is above the allowed ${max}` };
  return undefined;
}
const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(4));

/** Judges one probe output against the test's expectation. `reference` is the solution's output. */
export async function judge(
  test: RubricTest,
  output: Json,
  reference: Json | undefined,
): Promise<Mismatch | undefined> {
  const e = test.expect;
  const out = revive(output);
  switch (e.kind) {
    case 'reference':
      return deepClose(out, revive(reference ?? null), e.atol ?? 1e-5, e.rtol ?? 1e-5);
    case 'equals':
      return deepClose(out, e.value, e.atol ?? 1e-9, e.rtol ?? 1e-9);
    case 'range': {
      const v = at(out, e.path);
      if (typeof v !== 'number')
        return { summary: `${e.path ?? 'the output'} should be a number`, detail: `got ${kind(v)}` };
      return inRange(e.path ?? 'the value', v, e.min, e.max);
    }
    case 'metric': {
      const m = metric(e.metric, at(out, e.path), e.targets);
      return typeof m === 'string' ? { summary: m } : inRange(e.metric, m, e.min, e.max);
    }
    case 'custom':
      try {
        const message = await e.check(out as Json, {
          input: test.input ?? null,
          ...(reference === undefined ? {} : { reference: revive(reference) as Json }),
        });
        return message ? { summary: message } : undefined;
      } catch (err) {
        return { summary: `the output could not be checked (${(err as Error).message})` };
      }
  }
}
