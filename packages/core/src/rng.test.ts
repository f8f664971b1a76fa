import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('is reproducible from a seed and differs between seeds', () => {
    const a = Array.from({ length: 5 }, () => new Rng(42).next());
    expect(new Set(a).size).toBe(1);
    const r1 = new Rng(1);
    const r2 = new Rng(2);
    expect([r1.next(), r1.next()]).not.toEqual([r2.next(), r2.next()]);
  });

  it('continues exactly from a saved state', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) rng.next();
    const saved = rng.getState();
    const expected = Array.from({ length: 10 }, () => rng.nextUint32());
    const resumed = Rng.fromState(saved);
    expect(Array.from({ length: 10 }, () => resumed.nextUint32())).toEqual(expected);
  });

  it('draws uniform numbers in [0,1) with the right mean, and normals with mean 0, sd 1', () => {
    const rng = new Rng(3);
    const u = Array.from({ length: 20000 }, () => rng.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(u.reduce((a, b) => a + b) / u.length).toBeCloseTo(0.5, 1);
    const n = Array.from({ length: 20000 }, () => rng.normal());
    const mean = n.reduce((a, b) => a + b) / n.length;
    const sd = Math.sqrt(n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });

  it('makes permutations', () => {
    const p = new Rng(5).permutation(100);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('rejects a malformed state', () => {
    expect(() => Rng.fromState([1, 2, 3] as never)).toThrow(/four/);
  });
});
