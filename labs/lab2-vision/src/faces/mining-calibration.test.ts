import { describe, expect, it } from 'vitest';
import { calibrateThreshold } from './calibrate-threshold.js';
import { initialNegativeWeights, minedNegativeWeights } from './hard-negatives.js';

describe('hard-negative mining weights', () => {
  const pool = Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1]);

  it('leaves the mining pool out of the first round', () => {
    expect(Array.from(initialNegativeWeights(pool)!)).toEqual([0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0]);
    expect(initialNegativeWeights(new Uint8Array(3))).toBeUndefined();
  });

  it('adds the windows the model mistakes for faces as a share of the draws, and keeps the easy pool windows out', () => {
    const scores = Float32Array.from([0.1, 0.9, 0.2, 0.05, 0.95, 0.6, 0.01, 0.2]);
    // Hard: one training non-face and two pool windows; three easy training ones.
    const r = minedNegativeWeights(scores, pool, { above: 0.5, share: 0.5 });
    expect([r.hardTraining, r.hardPool]).toEqual([1, 2]);
    // Half the draws: each hard window weighs 3 / 3 = 1 relative to an easy one.
    expect(Array.from(r.weights).map((w) => w * 6)).toEqual([1, 1, 1, 1, 1, 1, 0, 0].map((v) => expect.closeTo(v, 9)));
    expect(r.hardShare).toBeCloseTo(0.5, 12);
    expect(r.maxP).toBeCloseTo(0.95, 6);
    // A single mistake among many easy windows is capped at maxBoost times an ordinary one.
    const many = new Float32Array(1000).fill(0.1);
    many[0] = 0.9;
    const capped = minedNegativeWeights(many, new Uint8Array(1000), { above: 0.5, share: 0.35, maxBoost: 20 });
    expect(capped.weights[0] / capped.weights[1]).toBeCloseTo(20, 9);
  });

  it('keeps a window mined in an earlier round, even once the model gets it right', () => {
    const mined = new Uint8Array(8);
    minedNegativeWeights(Float32Array.from([0, 0, 0, 0, 0.9, 0, 0, 0]), pool, { above: 0.5, mined });
    // Round two scores only the pool (−1 = not scored); window 4 is fixed, window 5 is new.
    const r = minedNegativeWeights(Float32Array.from([-1, -1, -1, -1, 0.1, 0.8, 0.1, 0.1]), pool, {
      above: 0.5,
      mined,
    });
    expect(Array.from(mined)).toEqual([0, 0, 0, 0, 1, 1, 0, 0]);
    expect(r.hardPool).toBe(2);
    expect(r.weights[6]).toBe(0);
    expect(r.weights[0]).toBeGreaterThan(0);
  });
});

describe('the calibrated detector threshold', () => {
  const faces = Array.from({ length: 100 }, (_, i) => 0.5 + i / 200); // 0.5 … 0.995
  const nonFaces = Array.from({ length: 1000 }, (_, i) => i / 1000); // 0 … 0.999

  it('is the strictest threshold that keeps the target share of validation faces', () => {
    const c = calibrateThreshold(faces, nonFaces, { recall: 0.9 });
    expect(c.rule).toBe('validation recall');
    expect(c.recall).toBe(0.9);
    // The 90th best face of 100: 0.5 + 10/200.
    expect(c.threshold).toBeCloseTo(0.55, 12);
    expect(c.falsePositiveRate).toBeCloseTo(0.45, 6);
    expect(c.atHalf).toEqual({ recall: 1, falsePositiveRate: 0.5 });
  });

  it('never goes below 0.5, and tells apart scores that float32 would round to 1', () => {
    const weak = calibrateThreshold([0.1, 0.2, 0.3, 0.9], [0.05], { recall: 0.5 });
    expect(weak).toMatchObject({ threshold: 0.5, rule: 'floor', recall: 0.25 });
    const sharp = [1 - 1e-9, 1 - 1e-10, 1 - 1e-12];
    const c = calibrateThreshold(sharp, [1 - 1e-9], { recall: 0.6 });
    expect(c.threshold).toBe(1 - 1e-10);
    expect(c.falsePositiveRate).toBe(0);
  });
});
