import { Rng, tf, useBackend } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vocabulary } from '../src/data/vocab.js';
import { generateText } from '../src/model/generate.js';
import { heldOutLoss } from '../src/model/held-out.js';
import { computeLoss } from '../src/model/loss.js';
import { COURSE_MODEL, MusicModel } from '../src/model/music-model.js';
import { sampleIndex } from '../src/model/sample.js';

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the course model', () => {
  it('has 5,353,299 parameters: Embedding 21,248, LSTM 5,246,976, Dense 85,075', () => {
    const model = new MusicModel(COURSE_MODEL, new Rng(1));
    expect(model.embedding.countParams()).toBe(21_248);
    expect(model.lstm.countParams()).toBe(5_246_976);
    expect(model.dense.countParams()).toBe(85_075);
    expect(model.countParams()).toBe(5_353_299);
    expect(model.summary()).toContain('Total params: 5,353,299');
    expect([...model.variables().keys()]).toEqual([
      'embedding/embeddings',
      'lstm/kernel',
      'lstm/recurrent_kernel',
      'lstm/bias',
      'dense/kernel',
      'dense/bias',
    ]);
    model.dispose();
  });

  it('untrained, its first loss on a course batch (8 × 100) is about ln 83 = 4.42', () => {
    const model = new MusicModel(COURSE_MODEL, new Rng(1));
    const rng = new Rng(2);
    const ids = Int32Array.from({ length: 8 * 101 }, () => rng.int(83));
    const x = tf.tensor2d(ids.subarray(0, 800), [8, 100], 'int32');
    const y = tf.tensor2d(ids.subarray(8, 808), [8, 100], 'int32');
    const logits = model.apply(x);
    expect(logits.shape).toEqual([8, 100, 83]);
    const loss = computeLoss(y, logits).dataSync()[0];
    expect(Math.abs(loss - Math.log(83))).toBeLessThan(0.02);
    tf.dispose([x, y, logits]);
    model.dispose();
  });
});

describe('computeLoss', () => {
  it('is the mean negative log-probability of the true next characters', () => {
    const logits = tf.tensor3d([
      [
        [0, Math.log(3)],
        [Math.log(4), 0],
      ],
    ]); // p = [.25,.75], [.8,.2]
    const labels = tf.tensor2d([[1, 1]], [1, 2], 'int32');
    expect(computeLoss(labels, logits).dataSync()[0]).toBeCloseTo((-Math.log(0.75) - Math.log(0.2)) / 2, 5);
  });
});

describe('sampleIndex', () => {
  it('draws in proportion to softmax(logits / T), seeded', () => {
    const rng = new Rng(5);
    let ones = 0;
    for (let i = 0; i < 4000; i++) ones += sampleIndex([0, Math.log(3)], 1, rng);
    expect(ones / 4000).toBeGreaterThan(0.72);
    expect(ones / 4000).toBeLessThan(0.78);
    // A low temperature all but always takes the likeliest index.
    const cold = new Rng(6);
    for (let i = 0; i < 100; i++) expect(sampleIndex([0.1, 0.3, 0.2], 0.01, cold)).toBe(1);
    expect(() => sampleIndex([0, 1], 0, new Rng(0))).toThrow(/--temperature must be a positive number/);
  });
});

describe('generateText: stateful, one character at a time', () => {
  const vocab = Vocabulary.fromText('X:1\nT:ab|cd ABCD efg\n');
  const small = () => new MusicModel({ vocabSize: vocab.size, embeddingDim: 8, units: 16 }, new Rng(9));

  it('samples from the last time step: greedy output equals re-running the whole prefix', () => {
    const model = small();
    const start = 'X:1\nT:'; // several characters: the course's PyTorch bug would sample from every step
    const { text } = generateText(model, vocab, { start, length: 12, temperature: 1e-4, rng: new Rng(1) });
    expect(text.startsWith(start)).toBe(true);
    expect(text).toHaveLength(start.length + 12);
    for (let i = start.length; i < text.length; i++) {
      const prefix = Int32Array.from([...text.slice(0, i)].map((c) => vocab.indexOf(c)!));
      const best = tf.tidy(() => {
        const logits = model.apply(tf.tensor2d(prefix, [1, prefix.length], 'int32'));
        return logits
          .slice([0, prefix.length - 1, 0], [1, 1, -1])
          .argMax(-1)
          .dataSync()[0];
      });
      expect(text[i]).toBe(vocab.chars[best]);
    }
    model.dispose();
  });

  it('is reproducible with a seed, streams each character and can stop early', () => {
    const model = small();
    const a = generateText(model, vocab, { start: 'X', length: 40, rng: new Rng(3) });
    const streamed: string[] = [];
    const b = generateText(model, vocab, { start: 'X', length: 40, rng: new Rng(3), onChar: (c) => streamed.push(c) });
    expect(b.text).toBe(a.text);
    expect(streamed.join('')).toBe(a.text.slice(1));
    expect(generateText(model, vocab, { start: 'X', length: 40, rng: new Rng(4) }).text).not.toBe(a.text);
    const stopped = generateText(model, vocab, {
      start: 'X',
      length: 40,
      rng: new Rng(3),
      stop: (t) => t.length >= 11,
    });
    expect(stopped.text).toBe(a.text.slice(0, 11));
    expect(tf.memory().numTensors).toBeLessThan(50);
    model.dispose();
  });

  it('refuses a start string with characters outside the vocabulary, or an empty one', () => {
    const model = small();
    expect(() => generateText(model, vocab, { start: 'X:é', length: 5, rng: new Rng(0) })).toThrow(
      /"é" is not in the model's \d+-character vocabulary/,
    );
    expect(() => generateText(model, vocab, { start: '', length: 5, rng: new Rng(0) })).toThrow(/--start/);
    model.dispose();
  });
});

describe('heldOutLoss', () => {
  it('is the mean NLL per character over consecutive windows', async () => {
    const model = new MusicModel({ vocabSize: 5, embeddingDim: 4, units: 8 }, new Rng(1));
    const vec = Int32Array.from({ length: 41 }, (_, i) => i % 5);
    const all = await heldOutLoss(model, vec, { seqLength: 10, batchSize: 3 });
    expect(all.chars).toBe(40);
    const x = tf.tensor2d(vec.subarray(0, 40), [4, 10], 'int32');
    const y = tf.tensor2d(vec.subarray(1, 41), [4, 10], 'int32');
    expect(all.loss).toBeCloseTo(computeLoss(y, model.apply(x)).dataSync()[0], 5);
    expect((await heldOutLoss(model, vec, { seqLength: 10, maxWindows: 2 })).chars).toBe(20);
    model.dispose();
  });
});

describe('trainStep', () => {
  it('lowers the loss on a batch it trains on, and returns the loss before the update', async () => {
    const { Adam } = await import('@introdl/core');
    const { trainStep } = await import('../src/train/step.js');
    const model = new MusicModel({ vocabSize: 6, embeddingDim: 4, units: 8 }, new Rng(1));
    const x = tf.tensor2d([[0, 1, 2, 3, 4, 5]], [1, 6], 'int32');
    const y = tf.tensor2d([[1, 2, 3, 4, 5, 0]], [1, 6], 'int32');
    const before = computeLoss(y, model.apply(x)).dataSync()[0];
    const optimizer = new Adam(0.05);
    const first = trainStep(model, optimizer, x, y);
    expect(first).toBeCloseTo(before, 5);
    let last = first;
    for (let i = 0; i < 30; i++) last = trainStep(model, optimizer, x, y);
    expect(last).toBeLessThan(first / 2);
    model.dispose();
  });
});
