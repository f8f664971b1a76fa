import { Rng } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import { sampleWithoutReplacement } from './sampling.js';

describe('sampleWithoutReplacement', () => {
  it('draws k distinct indices, uniformly without p', () => {
    const rng = new Rng(1);
    const counts = new Array(10).fill(0);
    for (let t = 0; t < 4000; t++) {
      const s = sampleWithoutReplacement(10, 3, rng);
      expect(new Set(s).size).toBe(3);
      for (const i of s) counts[i]++;
    }
    for (const c of counts) expect(c / 4000).toBeCloseTo(0.3, 1);
  });

  it('follows p at the first draw and never picks zero-probability items', () => {
    const rng = new Rng(2);
    const p = [0.5, 0.25, 0.25, 0];
    const first = [0, 0, 0, 0];
    for (let t = 0; t < 8000; t++) {
      const s = sampleWithoutReplacement(4, 1, rng, p);
      first[s[0]]++;
    }
    expect(first[0] / 8000).toBeCloseTo(0.5, 1);
    expect(first[1] / 8000).toBeCloseTo(0.25, 1);
    expect(first[3]).toBe(0);
  });

  it('matches successive sampling for pairs: P({0,1}) = p0·p1/(1−p0) + p1·p0/(1−p1)', () => {
    const rng = new Rng(3);
    const p = [0.5, 0.3, 0.2];
    let both01 = 0;
    const trials = 20000;
    for (let t = 0; t < trials; t++) {
      const s = new Set(sampleWithoutReplacement(3, 2, rng, p));
      if (s.has(0) && s.has(1)) both01++;
    }
    const expected = (0.5 * 0.3) / 0.5 + (0.3 * 0.5) / 0.7;
    expect(both01 / trials).toBeCloseTo(expected, 1);
  });
});
