import { describe, expect, it } from 'vitest';
import type { RubricTest } from '../rubric/types.js';
import { deepClose, judge, metric, revive } from './compare.js';

describe('deepClose', () => {
  it('accepts numbers within atol + rtol·|expected|, NaN for NaN, and equal structures', () => {
    expect(deepClose([1, { a: 2.000001 }], [1, { a: 2 }], 1e-5, 0)).toBeUndefined();
    expect(deepClose(Number.NaN, Number.NaN, 0, 0)).toBeUndefined();
    expect(deepClose(1010, 1000, 0, 0.01)).toBeUndefined();
  });

  it('names where the first difference is', () => {
    expect(
      deepClose(
        [
          [1, 2],
          [3, 5],
        ],
        [
          [1, 2],
          [3, 4],
        ],
        1e-6,
        0,
      ),
    ).toEqual({ summary: 'wrong value at [1][1]', detail: 'expected 4, got 5' });
    expect(deepClose([1], [1, 2], 0, 0)).toEqual({
      summary: 'the output has the wrong length',
      detail: 'expected 2 items, got 1',
    });
    expect(deepClose({ a: 1 }, { a: 1, b: 2 }, 0, 0)).toEqual({ summary: 'the output lacks key "b"' });
    expect(deepClose({ a: 1, c: 3 }, { a: 1 }, 0, 0)).toEqual({ summary: 'the output has an unexpected key "c"' });
    expect(deepClose('x', 3, 0, 0)).toEqual({ summary: 'the output should be a number', detail: 'got a string' });
  });
});

describe('metrics computed in the grading process', () => {
  it('accuracy, cross-entropy, mse and mean absolute error', () => {
    const scores = [
      [2, 0],
      [0, 1],
      [5, 4],
    ];
    expect(metric('accuracy', scores, [0, 1, 1])).toBeCloseTo(2 / 3, 12);
    const ce = metric('crossEntropy', [[0, 0]], [1]);
    expect(ce).toBeCloseTo(Math.log(2), 12);
    expect(metric('mse', [1, 2, 3], [1, 2, 5])).toBeCloseTo(4 / 3, 12);
    expect(metric('meanAbsError', [[1, -1]], [[0, 0]])).toBe(1);
    expect(metric('accuracy', [[1, 2]], [0, 1])).toBe('expected 2 rows of scores, got 1');
  });
});

describe('judge', () => {
  const test = (expect_: RubricTest['expect']): RubricTest => ({
    name: 't',
    exercise: 'e',
    points: 1,
    probe: 'p',
    expect: expect_,
  });
  it('range, metric and custom checks, with revived NaN', async () => {
    expect(
      await judge(test({ kind: 'range', path: 'loss', min: 0, max: 1 }), { loss: 0.5 }, undefined),
    ).toBeUndefined();
    expect(await judge(test({ kind: 'range', path: 'loss', max: 1 }), { loss: { $number: 'NaN' } }, undefined)).toEqual(
      { summary: 'loss is NaN' },
    );
    expect(
      await judge(test({ kind: 'metric', metric: 'accuracy', targets: [1], min: 1 }), [[1, 0]], undefined),
    ).toEqual({
      summary: 'accuracy 0 is below the required 1',
    });
    const custom = test({ kind: 'custom', check: (o) => (o === 3 ? undefined : `got ${o}`) });
    expect(await judge(custom, 4, undefined)).toEqual({ summary: 'got 4' });
    expect(revive({ a: [{ $number: '-Infinity' }] })).toEqual({ a: [Number.NEGATIVE_INFINITY] });
  });
});
