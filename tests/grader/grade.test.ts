import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BatchResult, gradeBatch, type SubmissionResult, validateRubric } from '@introdl/grader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introdl } from '../cli/run-cli.js';
import schema from './gradescope-results.schema.json' with { type: 'json' };
import { validate } from './helpers/json-schema.js';
import { bareWorkspace, LAB0_DIR, lab0, removeTmpDirs, solvedWorkspace, tmp, zipEntriesOf } from './helpers/lab0.js';
import { makeZip } from './helpers/zip-writer.js';

// Exponentiates without subtracting the maximum: right for small inputs, NaN for large ones.
const UNSTABLE_SOFTMAX = `  const exps = xs.map((x) => Math.exp(x));
  const total = exps.reduce((s, e) => s + e, 0);
  return exps.map((e) => e / total);`;

describe('grade: honest submissions of the fixture lab', () => {
  const root = tmp();
  const out = path.join(root, 'grades');
  let batch: BatchResult;
  const byName = (name: string) => batch.results.find((r) => r.name === name) as SubmissionResult;

  beforeAll(async () => {
    const subs = path.join(root, 'subs');
    await bareWorkspace(path.join(subs, 'bare'));
    const solved = await solvedWorkspace(path.join(subs, 'solved'));
    // The same work zipped inside a folder, and only its src folder handed in.
    writeFileSync(path.join(subs, 'zipped.zip'), makeZip(zipEntriesOf(solved, 'lab0-work/')));
    cpSync(path.join(solved, 'src'), path.join(subs, 'src-only', 'src'), { recursive: true });
    await solvedWorkspace(path.join(subs, 'unstable'), { 'lab0.1.2': UNSTABLE_SOFTMAX });
    const names = ['bare', 'solved', 'zipped.zip', 'src-only', 'unstable'];
    batch = await gradeBatch(
      await lab0(),
      names.map((n) => path.join(subs, n)),
      { jobs: 2, out },
    );
  });

  it('the bare scaffold scores 0, every test "not started"', () => {
    const r = byName('bare');
    expect(r.score).toBe(0);
    expect(r.maxScore).toBe(20);
    expect(
      r.tests.every((t) => t.notStarted && /^not started: lab0\.\d\.\d still throws its TODO$/.test(t.message ?? '')),
    ).toBe(true);
  });

  it('the solution filled back in scores full marks, as a folder, a zip, or just src/', () => {
    for (const name of ['solved', 'zipped', 'src-only']) {
      const r = byName(name);
      expect(r.score, `${name}: ${JSON.stringify(r.tests.filter((t) => t.status === 'failed'))}`).toBe(20);
      expect(r.exercises.map((e) => e.score)).toEqual([4, 4, 4, 8]);
    }
    expect(byName('zipped').root).toBe('lab0-work');
  });

  it('a partly wrong exercise loses only the hidden test that catches it, with its hint', () => {
    const r = byName('unstable');
    expect(r.score).toBe(18);
    const failed = r.tests.filter((t) => t.status === 'failed');
    expect(failed.map((t) => t.name)).toEqual(['softmax: large inputs sum to one (hidden)']);
    expect(failed[0].message).toBe('sum is NaN');
    expect(failed[0].hint).toBe('exp(1000) overflows: subtract the maximum first.');
  });

  it('writes a results.json per submission that validates against the Gradescope schema', () => {
    for (const r of batch.results) {
      const file = path.join(out, r.name, 'results.json');
      const json = JSON.parse(readFileSync(file, 'utf8'));
      expect(validate(json, schema as never), file).toEqual([]);
      expect(json.score).toBe(r.score);
      expect(json.tests).toHaveLength(8);
      for (const t of json.tests) expect(t.score).toBeLessThanOrEqual(t.max_score);
      expect(json.tests.reduce((s: number, t: { score: number }) => s + t.score, 0)).toBe(json.score);
    }
    const unstable = JSON.parse(readFileSync(path.join(out, 'unstable', 'results.json'), 'utf8'));
    const hidden = unstable.tests.find((t: { name: string }) => t.name.startsWith('softmax: large'));
    expect(hidden).toMatchObject({
      score: 0,
      max_score: 2,
      status: 'failed',
      visibility: 'hidden',
      tags: ['lab0.1.2'],
    });
    expect(hidden.output).toBe('> sum is NaN\n\nHint: exp(1000) overflows: subtract the maximum first.');
  });

  it('the schema check itself catches a malformed results.json', () => {
    const bad = {
      score: '20',
      tests: [{ name: 'x', score: 1, max_score: 1, output: '', visibility: 'sometimes', maxScore: 1 }],
    };
    expect(validate(bad, schema as never)).toEqual([
      '$.score: expected number, got string',
      '$.tests[0].visibility: "sometimes" is not one of ["hidden","after_due_date","after_published","visible"]',
      '$.tests[0]: unexpected key "maxScore"',
    ]);
  });

  it('writes a Markdown report with the failing tests and hints, and hides hidden values', () => {
    const report = readFileSync(path.join(out, 'unstable', 'report.md'), 'utf8');
    expect(report).toMatch(/^# lab0: Grader fixture lab — unstable/);
    expect(report).toContain('**Score: 18 / 20**');
    expect(report).toContain('| lab0.1.2 | Implement softmax | 2 / 4 |  |');
    expect(report).toContain('### ✗ softmax: large inputs sum to one (hidden) — 0 / 2 (lab0.1.2) (hidden test)');
    expect(report).toContain('Hint: exp(1000) overflows: subtract the maximum first.');
    expect(report).toContain('- ✓ dot: small vectors — 2 / 2 (lab0.1.1)');
  });

  it('writes the class summary CSV', () => {
    const csv = readFileSync(path.join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('name,score,max_score,lab0.1.1,lab0.1.2,lab0.2.1,lab0.3.1,refused,seconds,source');
    const rows = Object.fromEntries(csv.slice(1).map((l) => [l.split(',')[0], l.split(',').slice(1, 7).join(',')]));
    expect(rows).toEqual({
      bare: '0,20,0,0,0,0',
      solved: '20,20,4,4,4,8',
      zipped: '20,20,4,4,4,8',
      'src-only': '20,20,4,4,4,8',
      unstable: '18,20,4,2,4,8',
    });
  });
});

describe('grade from the command line', () => {
  it('introdl grader grade writes results and exits 0', async () => {
    const root = tmp();
    const solved = await solvedWorkspace(path.join(root, 'alice'));
    const out = path.join(root, 'grades');
    const r = introdl(['grader', 'grade', LAB0_DIR, solved, '--out', out, '--jobs', '1']);
    expect(r.code, r.all).toBe(0);
    expect(r.stderr).toMatch(/alice: 20 \/ 20/);
    expect(r.stdout.trim()).toBe(path.join(out, 'summary.csv'));
    expect(existsSync(path.join(out, 'alice', 'report.md'))).toBe(true);
  });

  it('a bad flag is one clear error', () => {
    const r = introdl(['grader', 'grade', LAB0_DIR, tmp(), '--jobs', 'two']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --jobs must be an integer, got "two"/m);
  });
});

describe('the rubric is checked when the lab loads', () => {
  it('lists every problem with its field', () => {
    const bad = {
      lab: 'lab0',
      title: 'x',
      publicTests: [],
      probes: 'p.ts',
      limits: { seconds: 3 },
      tests: [
        { name: 'a', exercise: 'e1', points: 0, probe: 'dot', expect: { kind: 'close' } },
        { name: 'a', exercise: 'e1', points: 1, probe: 'dot', expect: { kind: 'range' }, visibility: 'secret' },
      ],
    };
    expect(() => validateRubric(bad, '@introdl/lab0')).toThrow(
      [
        '@introdl/lab0: invalid rubric:',
        '  - limits.seconds: unknown limit (use testSeconds,totalSeconds,cpuSeconds,memoryMb)',
        '  - tests[0].points: must be a positive number',
        '  - tests[0].expect: must be an object whose kind is one of reference, equals, range, metric, custom',
        '  - tests[1].visibility: use visible,hidden,after_due_date,after_published',
        '  - tests[1].expect: give min, max or both',
        '  - tests[1].name: "a" is used twice',
      ].join('\n'),
    );
  });
});

afterAll(removeTmpDirs);
