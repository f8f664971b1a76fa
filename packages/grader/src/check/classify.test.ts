import { describe, expect, it } from 'vitest';
import type { WorkspaceManifest } from '../workspace/manifest.js';
import { classify, namesExercise } from './classify.js';

const manifest: WorkspaceManifest = {
  lab: 'lab9',
  title: 'Nine',
  format: 1,
  exercises: [
    { id: 'lab9.1.1', title: 'A', hint: '', file: 'src/a.ts' },
    { id: 'lab9.1.10', title: 'B', hint: '', file: 'src/b.ts', tests: ['the b test'] },
  ],
  publicTests: ['src/a.test.ts'],
};

describe('classify', () => {
  it('matches an id as a whole word', () => {
    expect(namesExercise('lab9.1.1 a > works', 'lab9.1.1')).toBe(true);
    expect(namesExercise('lab9.1.10 b > works', 'lab9.1.1')).toBe(false);
    expect(namesExercise('(lab9.1.1): x', 'lab9.1.1')).toBe(true);
  });

  it('done, not started, waiting, failing, and other tests', () => {
    const report = classify(manifest, [
      { file: 'src/a.test.ts', name: 'lab9.1.1 > one', status: 'failed', failure: 'Error: TODO(lab9.1.1): A' },
      { file: 'src/a.test.ts', name: 'the b test > x', status: 'failed', failure: 'Error: TODO(lab9.1.1): A' },
      { file: 'src/a.test.ts', name: 'helpers > y', status: 'passed' },
    ]);
    expect(report.exercises.map((e) => [e.state, e.detail])).toEqual([
      ['not started', undefined],
      ['waiting', 'needs lab9.1.1 first'],
    ]);
    expect(report.other).toEqual({ passed: 1, failed: [] });
    const later = classify(manifest, [
      { file: 'src/a.test.ts', name: 'lab9.1.1 > one', status: 'passed' },
      {
        file: 'src/a.test.ts',
        name: 'the b test > x',
        status: 'failed',
        failure: 'AssertionError: expected 1 to be 2',
      },
    ]);
    expect(later.exercises.map((e) => e.state)).toEqual(['done', 'failing']);
    expect(later.exercises[1].detail).toBe('the b test > x: AssertionError: expected 1 to be 2');
    expect(later.done).toBe(1);
  });
});
