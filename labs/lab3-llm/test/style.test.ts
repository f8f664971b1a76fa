import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  formatSummaries,
  histogram,
  ngramFeatures,
  StyleScorer,
  summarize,
  syntheticYodaPairs,
  writeScoreReport,
} from '../src/index.js';
import { tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

describe('offline style scorer', () => {
  it('n-gram features are L2-normalised and depend on word order', () => {
    const a = ngramFeatures('Patience, learn you must.');
    const b = ngramFeatures('You must learn patience.');
    expect(a.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 5);
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
    expect(dot).toBeLessThan(0.9);
  });

  it('learns Yoda-like vs plain word order on synthetic sentences, with a held-out accuracy', async () => {
    const train = syntheticYodaPairs(300, 1);
    const scorer = await StyleScorer.train(
      train.map((p) => p.answer),
      train.map((p) => p.question),
      { seed: 1, steps: 150 },
    );
    console.log(
      `style scorer on synthetic data: held-out accuracy ${scorer.report.heldOutAccuracy} (n=${scorer.report.heldOutExamples})`,
    );
    expect(scorer.report.heldOutExamples).toBe(120);
    expect(scorer.report.heldOutAccuracy).toBeGreaterThan(0.9);
    // unseen sentences from another seed
    const test = syntheticYodaPairs(40, 77);
    const yoda = scorer.score(test.map((p) => p.answer));
    const plain = scorer.score(test.map((p) => p.question));
    expect(summarize(yoda).mean).toBeGreaterThan(summarize(plain).mean + 0.5);
    const file = path.join(tmpDir(), 'scorer.json');
    scorer.save(file);
    expect(StyleScorer.load(file).score(['Strong, the force is.'])).toEqual(scorer.score(['Strong, the force is.']));
  });

  it('refuses a file that is not a scorer', () => {
    const file = path.join(tmpDir(), 'x.json');
    writeFileSync(file, '{"weights": []}');
    expect(() => StyleScorer.load(file)).toThrow(/not a style scorer/);
  });
});

describe('scored sets', () => {
  const sets = [
    { name: 'Base', texts: ['a', 'b', 'c'], scores: [0, 0.1, 0.2], failures: 0 },
    { name: 'Generated', texts: ['d', 'e'], scores: [0.5, 1], failures: 1 },
    { name: 'Style', texts: ['f'], scores: [0.9], failures: 0 },
  ];

  it('mean ± population std, failures named', () => {
    expect(summarize([0, 0.1, 0.2]).mean).toBeCloseTo(0.1);
    expect(summarize([0, 0.1, 0.2]).std).toBeCloseTo(Math.sqrt(0.02 / 3));
    expect(formatSummaries(sets)).toBe(
      'Base: 0.10 ± 0.08 (n=3) | Generated: 0.75 ± 0.25 (n=2, 1 failed) | Style: 0.90 ± 0.00 (n=1)',
    );
  });

  it('histogram of 6 bins per set, 1.0 in the last bin; written as PNG, SVG and JSON', async () => {
    const rows = histogram(sets);
    expect(rows.length).toBe(18);
    expect(rows.filter((r) => r.set === 'Generated' && r.count > 0).map((r) => r.bin)).toEqual([
      '0.50–0.67',
      '0.83–1.00',
    ]);
    const files = await writeScoreReport(sets, path.join(tmpDir(), 'scores'), 'test');
    expect(readFileSync(files.png).subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(files.svg, 'utf8')).toContain('<svg');
    expect(JSON.parse(readFileSync(files.json, 'utf8')).sets[1].summary.failures).toBe(1);
  });
});
