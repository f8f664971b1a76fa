import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CheckReport } from '@introdl/grader';
import { afterAll, describe, expect, it } from 'vitest';
import { introdl } from '../cli/run-cli.js';
import { bareWorkspace, LAB0_DIR, lab0, removeTmpDirs, replaceRegion, solvedWorkspace, tmp } from './helpers/lab0.js';

/** Runs the workspace's own check script, as `npm run check` does, and returns its JSON report. */
function check(dir: string): CheckReport {
  const r = spawnSync(process.execPath, ['.introdl/check.mjs', '--json'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CheckReport;
}

const states = (report: CheckReport) => Object.fromEntries(report.exercises.map((e) => [e.id, e.state]));

describe('scaffold', () => {
  it('writes a standalone workspace with every exercise stubbed and no solution, rubric or probe in it', async () => {
    const dir = await bareWorkspace(path.join(tmp(), 'ws'));
    for (const f of ['package.json', 'tsconfig.json', 'vitest.config.ts', 'README.md', 'HANDOUT.md', '.gitignore']) {
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    }
    expect(existsSync(path.join(dir, '.introdl/check.mjs'))).toBe(true);
    for (const f of ['src/rubric.ts', 'src/index.ts', 'src/grading/probes.ts'])
      expect(existsSync(path.join(dir, f)), f).toBe(false);
    const vectors = readFileSync(path.join(dir, 'src/vectors.ts'), 'utf8');
    expect(vectors).toContain(
      "throw new Error('TODO(lab0.1.1): Implement dot — multiply element by element and add the products up.');",
    );
    expect(vectors).toContain('// @exercise lab0.1.2 "Implement softmax"');
    expect(vectors).toContain('// hint: then divide by the sum.');
    expect(vectors).not.toContain('sum += a[i] * b[i]');
    expect(vectors).not.toContain('Math.max(...xs)');
    // What is not an exercise is copied as it is, and stays runnable.
    expect(readFileSync(path.join(dir, 'src/util.ts'), 'utf8')).toBe(
      readFileSync(path.join(LAB0_DIR, 'src/util.ts'), 'utf8'),
    );
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg.scripts.check).toBe('node .introdl/check.mjs');
    expect(pkg.dependencies['@introdl/core']).toMatch(/^\^0\.1\./);
    expect(pkg.devDependencies.vitest).toBeDefined();
    const manifest = JSON.parse(readFileSync(path.join(dir, '.introdl/exercises.json'), 'utf8'));
    expect(manifest.exercises.map((e: { id: string }) => e.id)).toEqual([
      'lab0.1.1',
      'lab0.1.2',
      'lab0.2.1',
      'lab0.3.1',
    ]);
    expect(JSON.stringify(manifest)).not.toContain('value');
  });

  it('the bare workspace type-checks with its own tsconfig: stubs and everything else compile', async () => {
    const dir = await bareWorkspace(path.join(tmp(), 'ws'));
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', dir], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('refuses to write into a folder that is not empty', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await expect(bareWorkspace(dir)).rejects.toThrow(/exists and is not empty/);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('with the tarball: package.json installs @introdl/core from vendor/', async () => {
    const { scaffold } = await import('@introdl/grader');
    const dir = path.join(tmp(), 'ws');
    await scaffold(await lab0(), { out: dir, core: 'tarball' });
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const spec: string = pkg.dependencies['@introdl/core'];
    expect(spec).toMatch(/^file:\.\/vendor\/introdl-core-.*\.tgz$/);
    expect(existsSync(path.join(dir, spec.slice('file:'.length)))).toBe(true);
  });
});

describe('check', () => {
  it('on the bare scaffold: every exercise is not started; helpers already pass', async () => {
    const report = check(await bareWorkspace(path.join(tmp(), 'ws')));
    expect(states(report)).toEqual({
      'lab0.1.1': 'not started',
      'lab0.1.2': 'not started',
      'lab0.2.1': 'not started',
      'lab0.3.1': 'not started',
    });
    expect(report.done).toBe(0);
    expect(report.other).toEqual({ passed: 1, failed: [] });
    expect(report.fileErrors).toEqual([]);
  });

  it('with the solutions filled back in: every exercise is done', async () => {
    const report = check(await solvedWorkspace(path.join(tmp(), 'ws')));
    expect(Object.values(states(report))).toEqual(['done', 'done', 'done', 'done']);
    expect(report.exercises.map((e) => `${e.passed}/${e.total}`)).toEqual(['2/2', '3/3', '1/1', '1/1']);
  });

  it('in between: failing with the first assertion, and waiting for another exercise', async () => {
    const dir = await bareWorkspace(path.join(tmp(), 'ws'));
    const lab = await lab0();
    const bodies = (await import('@introdl/grader')).solutionBodies(lab);
    // softmax done right (but one of its tests calls dot, still a TODO); wordCounts done wrong.
    const vectors = path.join(dir, 'src/vectors.ts');
    writeFileSync(vectors, replaceRegion(vectors, 'lab0.1.2', bodies.get('lab0.1.2')!));
    const text = path.join(dir, 'src/text.ts');
    writeFileSync(text, replaceRegion(text, 'lab0.2.1', '  return { the: 1 };'));
    const report = check(dir);
    expect(states(report)).toEqual({
      'lab0.1.1': 'not started',
      'lab0.1.2': 'waiting',
      'lab0.2.1': 'failing',
      'lab0.3.1': 'not started',
    });
    const byId = Object.fromEntries(report.exercises.map((e) => [e.id, e]));
    expect(byId['lab0.1.2'].detail).toBe('needs lab0.1.1 first');
    expect(byId['lab0.1.2'].passed).toBe(2);
    expect(byId['lab0.2.1'].detail).toMatch(
      /counts words case-insensitively: AssertionError: expected \{ the: 1 \} to deeply equal/,
    );
  });

  it('a test file that does not compile is reported, not hidden', async () => {
    const dir = await bareWorkspace(path.join(tmp(), 'ws'));
    writeFileSync(path.join(dir, 'src/text.ts'), 'export function wordCounts( {');
    const report = check(dir);
    expect(report.fileErrors.map((f) => f.file)).toEqual(['src/text.spec.ts']);
    expect(states(report)['lab0.2.1']).toBe('no tests');
  });
});

describe('the CLI', () => {
  it('introdl grader scaffold, then introdl grader check prints the table', async () => {
    const dir = path.join(tmp(), 'ws');
    const s = introdl(['grader', 'scaffold', LAB0_DIR, '--out', dir, '--core', 'link']);
    expect(s.code, s.all).toBe(0);
    expect(s.stdout.trim()).toBe(dir);
    const c = introdl(['grader', 'check', dir]);
    expect(c.code, c.all).toBe(0);
    expect(c.stdout).toMatch(/lab0: Grader fixture lab — 0 of 4 exercises done/);
    expect(c.stdout).toMatch(/lab0\.1\.1\s+· not started\s+0\/2\s+Implement dot \(src\/vectors\.ts\)/);
    expect(c.stdout).toMatch(/Next: lab0\.1\.1 "Implement dot" in src\/vectors\.ts/);
  });

  it('check outside a workspace: one clear error, no stack', () => {
    const r = introdl(['grader', 'check', tmp()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: .*\.introdl\/exercises\.json: not found; run this inside a workspace made by `introdl scaffold`/m,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown lab: one clear error', () => {
    const r = introdl(['grader', 'scaffold', 'lab9', '--out', path.join(tmp(), 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: no installed lab is called "lab9"/m);
  });
});

afterAll(removeTmpDirs);
