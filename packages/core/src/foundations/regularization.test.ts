import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { EarlyStopping } from './early-stopping.js';
import { Dropout, dropout, kernelsOf, l2Penalty } from './regularization.js';
import { mlp } from './sequential.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('dropout', () => {
  it('is the identity at inference', () => {
    const x = tf.ones([4, 100]);
    expect(dropout(x, 0.5, { training: false })).toBe(x);
    expect(new Dropout(0.5).apply(x)).toBe(x);
  });

  it('drops about `rate` of the units in training and scales the rest by 1/(1−rate)', () => {
    const x = tf.ones([100, 100]);
    const y = dropout(x, 0.3, { training: true, rng: new Rng(1) }).dataSync();
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.27);
    expect(zeros).toBeLessThan(0.33);
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    // inverted scaling keeps the expected activation
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    expect(mean).toBeGreaterThan(0.95);
    expect(mean).toBeLessThan(1.05);
  });

  it('draws the same mask from the same RNG state, another from another', () => {
    const x = tf.ones([10, 10]);
    const a = dropout(x, 0.5, { training: true, rng: new Rng(5) }).dataSync();
    const b = dropout(x, 0.5, { training: true, rng: new Rng(5) }).dataSync();
    const c = dropout(x, 0.5, { training: true, rng: new Rng(6) }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('rejects a rate outside [0, 1)', () => {
    expect(() => dropout(tf.ones([2]), 1, { training: true })).toThrow(/rate/);
  });
});

describe('L2 weight decay', () => {
  it('is λ·Σw² over the kernels only', () => {
    const model = mlp([2, 2, 1], { seed: 1 });
    const kernels = kernelsOf(model.variables());
    expect(kernels).toHaveLength(2);
    const expected = kernels.reduce((s, k) => s + k.dataSync().reduce((a, v) => a + v * v, 0), 0) * 0.01;
    expect(l2Penalty(kernels, 0.01).dataSync()[0]).toBeCloseTo(expected, 6);
    // its gradient is 2λw
    const k = kernels[0];
    const g = tf
      .grad((w: tf.Tensor) => l2Penalty([w as tf.Variable], 0.5))(k)
      .dataSync();
    expect(Array.from(g).map((v) => Number(v.toFixed(5)))).toEqual(
      Array.from(k.dataSync()).map((v) => Number(v.toFixed(5))),
    );
  });
});

describe('early stopping', () => {
  it('stops after `patience` validations without improvement and restores the best weights', () => {
    const w = tf.variable(tf.tensor([0]));
    const vars = new Map([['w', w]]);
    const es = new EarlyStopping({ patience: 2, minDelta: 0.01 });
    const losses = [1.0, 0.8, 0.7, 0.695, 0.75, 0.9];
    let stoppedAt = -1;
    losses.forEach((loss, i) => {
      if (stoppedAt >= 0) return;
      w.assign(tf.tensor([i]));
      if (es.update(i, { val_loss: loss }, vars)) stoppedAt = i;
    });
    // 0.695 is not better than 0.7 by minDelta, 0.75 neither: stop at index 4.
    expect(stoppedAt).toBe(4);
    expect(es.bestStep).toBe(2);
    expect(es.restore(vars)).toBe(true);
    expect(w.dataSync()[0]).toBe(2);
  });

  it('saves and restores its state', () => {
    const w = tf.variable(tf.tensor([3]));
    const es = new EarlyStopping({ patience: 5 });
    es.update(10, { val_loss: 0.5 }, new Map([['w', w]]));
    es.update(20, { val_loss: 0.6 }, new Map([['w', w]]));
    const { json, tensors } = es.getState();
    const copy = new EarlyStopping({ patience: 5 });
    copy.setState(json, tensors);
    expect([copy.best, copy.bestStep, copy.wait]).toEqual([0.5, 10, 1]);
    w.assign(tf.tensor([9]));
    copy.restore(new Map([['w', w]]));
    expect(w.dataSync()[0]).toBe(3);
  });

  it('complains when the monitored metric is missing', () => {
    expect(() => new EarlyStopping().update(1, { loss: 1 }, new Map())).toThrow(/val_loss/);
  });
});
