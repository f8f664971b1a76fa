import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Dense, Rng, tf } from '@introdl/core';
import { afterAll, describe, expect, it } from 'vitest';
import { gradientOfSquare } from '../src/part1/autograd.js';
import { OurDenseLayer } from '../src/part1/dense.js';
import { minimise, plotHistory, targetLoss } from '../src/part1/gradient-descent.js';
import { func } from '../src/part1/graph.js';
import { LinearButSometimesIdentity, LinearWithSigmoidActivation, sequentialModel } from '../src/part1/models.js';
import { makeImages, makeMatrix, sliceExamples } from '../src/part1/tensors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lab1-part1-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('1.1 tensors', () => {
  it('builds the rank-2 matrix and the rank-4 image batch the course asserts', () => {
    const matrix = makeMatrix();
    expect(matrix.rank).toBe(2);
    expect(matrix.shape).toEqual([2, 4]);
    expect(matrix.dtype).toBe('float32');
    const images = makeImages();
    expect(images.rank).toBe(4);
    expect(images.shape).toEqual([10, 256, 256, 3]);
    expect(images.max().dataSync()[0]).toBe(0);
    tf.dispose([matrix, images]);
  });

  it('slices a row, a column and an element', () => {
    const matrix = makeMatrix();
    expect(sliceExamples(matrix)).toEqual({ row: [5, 6, 7, 8], column: [2, 6], element: 2 });
    matrix.dispose();
  });
});

describe('1.2 computation graph', () => {
  it('gives 6.0 for a = 1.5, b = 2.5', () => {
    const e = func(tf.scalar(1.5), tf.scalar(2.5));
    expect(e.dataSync()[0]).toBe(6);
    expect(func(tf.scalar(0), tf.scalar(3)).dataSync()[0]).toBe(6); // (0+3)·(3−1)
  });
});

describe('1.3 dense layer from scratch', () => {
  it('maps [[1, 2]] to shape [1, 3] in (0, 1), as core Dense with the same weights does', () => {
    const layer = new OurDenseLayer(2, 3, new Rng(1));
    const x = tf.tensor2d([[1, 2]]);
    const y = layer.apply(x);
    expect(y.shape).toEqual([1, 3]);
    const values = Array.from(y.dataSync());
    for (const v of values) expect(v > 0 && v < 1).toBe(true);
    const core = new Dense({ inputs: 2, units: 3, activation: 'sigmoid' });
    core.kernel.assign(layer.W);
    core.bias!.assign(layer.bias);
    const expected = Array.from(core.apply(x).dataSync());
    values.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 6);
    });
    // And by hand: σ(1·W₀ⱼ + 2·W₁ⱼ + bⱼ).
    const W = layer.W.arraySync() as number[][];
    const b = layer.bias.arraySync() as number[];
    values.forEach((v, j) => {
      expect(v).toBeCloseTo(1 / (1 + Math.exp(-(W[0][j] + 2 * W[1][j] + b[j]))), 5);
    });
    expect(layer.countParams()).toBe(9);
  });
});

describe('1.4 models', () => {
  it('the sequential model is Linear(2,3) + Sigmoid', () => {
    const model = sequentialModel(new Rng(2));
    const y = model.apply(tf.tensor2d([[1, 2]]));
    expect(y.shape).toEqual([1, 3]);
    expect(model.countParams()).toBe(9);
    expect(model.summary([null, 2])).toContain('Total params: 9');
  });

  it('the subclassed model computes sigmoid(linear(x))', () => {
    const model = new LinearWithSigmoidActivation(2, 3, new Rng(3));
    const x = tf.tensor2d([[1, 2]]);
    const y = model.apply(x);
    const z = model.linear.apply(x);
    const expected = Array.from(tf.sigmoid(z).dataSync());
    Array.from(y.dataSync()).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 6);
    });
    expect([...model.variables().keys()]).toEqual(['linear/kernel', 'linear/bias']);
  });

  it('the identity switch returns x unchanged, or the linear output', () => {
    const model = new LinearButSometimesIdentity(2, 2, new Rng(4));
    const x = tf.tensor2d([[1, 2]]);
    expect(Array.from(model.apply(x, true).dataSync())).toEqual([1, 2]);
    const linear = Array.from(model.apply(x, false).dataSync());
    expect(linear).not.toEqual([1, 2]);
    expect(linear).toEqual(Array.from(model.linear.apply(x).dataSync()));
  });
});

describe('1.5 automatic differentiation', () => {
  it('d/dx x² at 3 is 6', () => {
    expect(gradientOfSquare(3)).toBe(6);
    expect(gradientOfSquare(-1.5)).toBe(-3);
  });
});

describe('1.6 gradient descent', () => {
  it('the loss is (x − x_f)²', () => {
    expect(targetLoss(tf.scalar(1), 4).dataSync()[0]).toBe(9);
  });

  it('converges to 4 from x ~ N(0, 1) in 500 steps of 0.01, and plots the history', async () => {
    const { start, history } = minimise({ seed: 1 });
    expect(history).toHaveLength(500);
    // Each step multiplies the distance to 4 by (1 − 2·0.01).
    expect(history[0] - 4).toBeCloseTo((start - 4) * 0.98, 4);
    expect(Math.abs(history[499] - 4)).toBeLessThan(1e-3 * Math.abs(start - 4) + 1e-3);
    expect(Math.abs(history[499] - 4)).toBeLessThan(Math.abs(history[100] - 4));
    const files = await plotHistory(history, 4, path.join(dir, 'history'));
    expect(existsSync(files.png)).toBe(true);
    expect(readFileSync(files.svg, 'utf8')).toContain('<svg');
  });
});
