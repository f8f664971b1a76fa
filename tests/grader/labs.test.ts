import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CheckReport, fillWorkspace, gradeBatch, loadLab, scaffold, solutionBodies } from '@introdl/grader';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTmpDirs, tmp } from './helpers/lab0.js';

const LABS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'labs');

/** True when the lab's sources mark at least one exercise region. */
function hasRegions(labDir: string): boolean {
  const walk = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) =>
      e.isDirectory()
        ? walk(path.join(dir, e.name))
        : e.name.endsWith('.ts') && readFileSync(path.join(dir, e.name), 'utf8').includes('// @exercise'),
    );
  const src = path.join(labDir, 'src');
  return existsSync(src) && walk(src);
}

function check(dir: string): CheckReport {
  const r = spawnSync(process.execPath, ['.introdl/check.mjs', '--json'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 600_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CheckReport;
}

describe.each([
  ['lab1', 'lab1-music'],
  ['lab2', 'lab2-vision'],
  ['lab3', 'lab3-llm'],
])('%s: scaffold, check, fill back, grade', (name, folder) => {
  const labDir = path.join(LABS_DIR, folder);
  it.skipIf(!hasRegions(labDir))(
    'the bare scaffold: nothing started, 0 points; the solution filled back: every public test and full marks',
    async () => {
      const lab = await loadLab(labDir);
      expect(lab.name).toBe(name);
      const root = tmp(`introdl-${name}-`);
      const bare = path.join(root, 'bare');
      const solved = path.join(root, 'solved');
      await scaffold(lab, { out: bare, core: 'link' });
      await scaffold(lab, { out: solved, core: 'link' });
      fillWorkspace(solved, lab, solutionBodies(lab));

      // check: every exercise is not started (or waits on one that is), none done or failing.
      const before = check(bare);
      for (const e of before.exercises)
        expect(['not started', 'waiting', 'no tests'], `${e.id}: ${e.detail}`).toContain(e.state);
      // (A lab without public tests yet, as Lab 3 today, shows its exercises as having none.)
      if (lab.rubric.publicTests.length)
        expect(before.exercises.filter((e) => e.state === 'not started').length).toBeGreaterThan(0);
      const after = check(solved);
      expect(after.fileErrors).toEqual([]);
      expect(after.other.failed).toEqual([]);
      for (const e of after.exercises) expect(['done', 'no tests'], `${e.id}: ${e.detail}`).toContain(e.state);
      expect(after.exercises.map((e) => e.state)).toEqual(
        before.exercises.map((e) => (e.state === 'no tests' ? 'no tests' : 'done')),
      );

      // grade: 0 for the bare scaffold, full marks for the solution, every hidden test included.
      const batch = await gradeBatch(lab, [bare, solved], { jobs: 2 });
      const [zero, full] = batch.results;
      expect(zero.score).toBe(0);
      expect(zero.tests.every((t) => /not started|needs exercise/.test(t.message ?? ''))).toBe(true);
      expect(full.score, JSON.stringify(full.tests.filter((t) => t.status === 'failed'))).toBe(full.maxScore);
      expect(full.tests.some((t) => t.visibility !== 'visible')).toBe(true);
    },
    900_000,
  );
});

afterAll(removeTmpDirs);
