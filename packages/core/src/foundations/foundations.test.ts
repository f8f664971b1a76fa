import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { relu, sigmoid, softmax, tanh } from './activations.js';
import { Dense, perceptron } from './dense.js';
import { gradientDescentStep, numericalGradient } from './gradient-descent.js';
import { binaryCrossEntropyFromLogits, maskedMean, meanSquaredError, softmaxCrossEntropy } from './losses.js';
import { Adam, GradientDescent, Lion, Momentum } from './optimizers.js';
import { mlp } from './sequential.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

/** Automatic gradient of f at x, and the finite-difference one. */
function gradients(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor) {
  const auto = tf.grad(f)(x).dataSync();
  const numeric = numericalGradient(f, x, 1e-2).dataSync();
  return { auto, numeric };
}

const input = () =>
  tf.tensor([
    [-2.5, -0.7, 0.1, 1.3],
    [3.1, -1.9, 0.4, -0.2],
  ]);

describe('activations', () => {
  it('match tfjs built-ins', () => {
    const z = tf.tensor([-30, -2, -0.5, 0, 0.5, 2, 30]);
    close(sigmoid(z).dataSync(), tf.sigmoid(z).dataSync(), 1e-6);
    close(tanh(z).dataSync(), tf.tanh(z).dataSync(), 1e-6);
    close(relu(z).dataSync(), [0, 0, 0, 0, 0.5, 2, 30], 0);
    close(softmax(input()).dataSync(), tf.softmax(input()).dataSync(), 1e-6);
  });

  it('softmax rows sum to one and survive large logits', () => {
    const s = softmax(tf.tensor([[1000, 1001, 1002]])).dataSync();
    expect(s[0] + s[1] + s[2]).toBeCloseTo(1, 6);
    expect(s[2]).toBeCloseTo(0.6652, 4);
  });

  for (const [name, fn] of Object.entries({ sigmoid, tanh, relu })) {
    it(`${name} gradient matches finite differences`, () => {
      // Points away from 0 so ReLU's kink is not straddled by the finite difference.
      const { auto, numeric } = gradients(
        (x) => tf.sum(tf.mul(fn(x), tf.range(1, 9).reshape([2, 4]))) as tf.Scalar,
        input(),
      );
      close(auto, numeric, 2e-3);
    });
  }

  it('softmax gradient matches finite differences', () => {
    const w = tf.tensor([
      [0.3, -1, 2, 0.5],
      [1, 1, -2, 0.1],
    ]);
    const { auto, numeric } = gradients((x) => tf.sum(tf.mul(softmax(x), w)) as tf.Scalar, input());
    close(auto, numeric, 2e-3);
  });
});

describe('losses', () => {
  it('compute the textbook values', () => {
    expect(meanSquaredError(tf.tensor([1, 2, 3]), tf.tensor([1, 2, 5])).dataSync()[0]).toBeCloseTo(4 / 3, 6);
    // −log σ(0) = log 2 for either label
    expect(binaryCrossEntropyFromLogits(tf.tensor([1, 0]), tf.tensor([0, 0])).dataSync()[0]).toBeCloseTo(
      Math.log(2),
      6,
    );
    // uniform logits over 83 classes: ln 83, the Lab 1 untrained loss
    expect(softmaxCrossEntropy(tf.tensor([3], [1], 'int32'), tf.zeros([1, 83])).dataSync()[0]).toBeCloseTo(
      Math.log(83),
      5,
    );
    expect(maskedMean(tf.tensor([1, 2, 3, 4]), tf.tensor([0, 1, 1, 0])).dataSync()[0]).toBeCloseTo(2.5, 6);
    expect(maskedMean(tf.tensor([1, 2]), tf.tensor([0, 0])).dataSync()[0]).toBe(0);
  });

  it('binary cross-entropy is finite for huge logits and equals the naive formula for small ones', () => {
    const y = tf.tensor([1, 0, 1, 0]);
    const z = tf.tensor([500, -500, -3, 2]);
    const v = binaryCrossEntropyFromLogits(y, z, 'none').dataSync();
    expect(Number.isFinite(v[0]) && Number.isFinite(v[2])).toBe(true);
    expect(v[2]).toBeCloseTo(-Math.log(1 / (1 + Math.exp(3))), 5);
    expect(v[3]).toBeCloseTo(-Math.log(1 - 1 / (1 + Math.exp(-2))), 5);
  });

  it('softmax cross-entropy matches tf.losses for sparse labels', () => {
    const logits = input();
    const labels = tf.tensor([2, 0], [2], 'int32');
    const ref = tf.losses.softmaxCrossEntropy(tf.oneHot(labels, 4), logits).dataSync()[0];
    expect(softmaxCrossEntropy(labels, logits).dataSync()[0]).toBeCloseTo(ref, 5);
  });

  it('gradients match finite differences', () => {
    const labels = tf.tensor([2, 0], [2], 'int32');
    const binary = tf.tensor([
      [1, 0, 1, 1],
      [0, 0, 1, 0],
    ]);
    const target = tf.tensor([
      [0.5, 0, 1, -1],
      [2, 0, 0, 1],
    ]);
    const mask = tf.tensor([
      [1, 0, 1, 1],
      [0, 1, 1, 0],
    ]);
    for (const f of [
      (x: tf.Tensor) => softmaxCrossEntropy(labels, x) as tf.Scalar,
      (x: tf.Tensor) => binaryCrossEntropyFromLogits(binary, x) as tf.Scalar,
      (x: tf.Tensor) => meanSquaredError(target, x),
      (x: tf.Tensor) => maskedMean(tf.square(x), mask),
    ]) {
      const { auto, numeric } = gradients(f, input());
      close(auto, numeric, 2e-3);
    }
  });

  it('reject mismatched shapes with a clear message', () => {
    expect(() => softmaxCrossEntropy(tf.tensor([1, 2, 3], [3], 'int32'), tf.zeros([2, 4]))).toThrow(
      /labels: expected shape \[2\], got \[3\]/,
    );
    expect(() => meanSquaredError(tf.zeros([2]), tf.zeros([3]))).toThrow(/expected shape/);
  });
});

describe('perceptron and dense layer', () => {
  it('a perceptron is g(w0 + x·w)', () => {
    const y = perceptron(tf.tensor2d([[1, 2]]), tf.tensor1d([3, -2]), 1, sigmoid).dataSync()[0];
    expect(y).toBeCloseTo(1 / (1 + Math.exp(-(1 + 3 - 4))), 6);
  });

  it('Dense equals tf.layers.dense given the same weights', () => {
    const ours = new Dense({ inputs: 4, units: 3, activation: 'sigmoid', rng: new Rng(3) });
    ours.bias!.assign(tf.tensor([0.1, -0.2, 0.3]));
    const theirs = tf.layers.dense({ units: 3, activation: 'sigmoid', inputShape: [4] });
    theirs.build([null, 4]);
    theirs.setWeights([ours.kernel, ours.bias!]);
    const x = input();
    const a = ours.apply(x).dataSync();
    const b = (theirs.apply(x) as tf.Tensor).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('the course example: input [[1,2]] through Dense(2→3) has shape [1,3]', () => {
    const layer = new Dense({ inputs: 2, units: 3, activation: 'sigmoid' });
    expect(layer.apply(tf.tensor2d([[1, 2]])).shape).toEqual([1, 3]);
    expect(() => layer.apply(tf.zeros([1, 5]))).toThrow(/expected shape \[\?, 2\], got \[1, 5\]/);
  });

  it('an MLP built from Dense layers names and counts its parameters', () => {
    const model = mlp([784, 128, 10], { seed: 1 });
    expect([...model.variables().keys()]).toEqual(['dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias']);
    expect(model.countParams()).toBe(784 * 128 + 128 + 128 * 10 + 10);
    expect(model.summary([null, 784])).toContain('Total params: 101,770');
    expect(model.apply(tf.zeros([5, 784])).shape).toEqual([5, 10]);
  });

  it('the same seed gives the same weights', () => {
    const a = mlp([4, 3, 2], { seed: 7 }).variables().get('dense/kernel')!.dataSync();
    const b = mlp([4, 3, 2], { seed: 7 }).variables().get('dense/kernel')!.dataSync();
    const c = mlp([4, 3, 2], { seed: 8 }).variables().get('dense/kernel')!.dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('gradient descent and optimizers', () => {
  it('gradient descent on (x − 4)² converges to 4', () => {
    const x = tf.variable(tf.scalar(-1.3));
    let last = 0;
    for (let i = 0; i < 500; i++) last = gradientDescentStep(() => tf.square(tf.sub(x, 4)) as tf.Scalar, [x], 1e-2);
    expect(x.dataSync()[0]).toBeCloseTo(4, 3);
    expect(last).toBeLessThan(1e-6);
  });

  it('d/dx x² at 3 is 6', () => {
    expect(
      tf
        .grad((x: tf.Tensor) => tf.square(x))(tf.scalar(3))
        .dataSync()[0],
    ).toBe(6);
  });

  it('one Adam step equals the hand-computed update', () => {
    const w0 = [0.5, -1.5, 2];
    const g = [0.1, -0.3, 2.5];
    const lr = 0.01;
    const w = tf.variable(tf.tensor(w0));
    const adam = new Adam(lr);
    adam.applyGradients(new Map([['w', w]]), { w: tf.tensor(g) });
    // Step 1: m = (1−β1)g, v = (1−β2)g², m̂ = g, v̂ = g², so w − lr·g/(|g| + ε).
    const expected = w0.map((wi, i) => {
      const m = (1 - 0.9) * g[i];
      const v = (1 - 0.999) * g[i] * g[i];
      const mHat = m / (1 - 0.9);
      const vHat = v / (1 - 0.999);
      return wi - (lr * mHat) / (Math.sqrt(vHat) + 1e-8);
    });
    close(w.dataSync(), expected, 1e-6);
    // A second step uses the bias-corrected running means.
    adam.applyGradients(new Map([['w', w]]), { w: tf.tensor(g) });
    const state = adam.getState();
    expect(state.scalars.step).toBe(2);
    close(
      state.tensors.get('m/w')!.dataSync(),
      g.map((gi) => 0.9 * 0.1 * gi + 0.1 * gi),
      1e-6,
    );
  });

  it('one Adam step matches tf.train.adam', () => {
    const w1 = tf.variable(tf.tensor([0.5, -1.5, 2]));
    const w2 = tf.variable(tf.tensor([0.5, -1.5, 2]));
    const loss = (w: tf.Variable) => () => tf.sum(tf.square(tf.sub(w, tf.tensor([1, 2, 3])))) as tf.Scalar;
    const ours = new Adam(0.1, { epsilon: 1e-7 });
    const theirs = tf.train.adam(0.1, 0.9, 0.999, 1e-7);
    for (let i = 0; i < 3; i++) {
      const { grads } = tf.variableGrads(loss(w1), [w1]);
      ours.applyGradients(new Map([['w', w1]]), { w: grads[w1.name] });
      theirs.minimize(loss(w2));
    }
    close(w1.dataSync(), w2.dataSync(), 1e-5);
  });

  it('Lion: w ← w − η·sign(β1·m + (1−β1)·g), m ← β2·m + (1−β2)·g (lion-pytorch defaults)', () => {
    const w = tf.variable(tf.tensor1d([1, -2, 0.5]));
    const lion = new Lion(0.1);
    const params = new Map([['w', w]]);
    lion.applyGradients(params, { w: tf.tensor1d([0.3, -0.1, 0]) });
    expect(Array.from(w.dataSync())).toEqual([1 - 0.1, -2 + 0.1, 0.5].map(Math.fround));
    lion.applyGradients(params, { w: tf.tensor1d([-1, 0.001, 0]) });
    // m after step 1 = 0.01·g1 = [0.003, -0.001, 0]; c = 0.9·m + 0.1·g2 = [-0.0973, -0.0008, 0]
    expect(Array.from(w.dataSync())).toEqual([0.9 + 0.1, -1.9 + 0.1, 0.5].map(Math.fround));
    expect(lion.config()).toMatchObject({ beta1: 0.9, beta2: 0.99, weightDecay: 0 });
    expect(lion.getState().scalars.step).toBe(2);
  });

  it('SGD and momentum follow their update rules', () => {
    const w = tf.variable(tf.tensor([1]));
    new GradientDescent(0.1).applyGradients(new Map([['w', w]]), { w: tf.tensor([2]) });
    expect(w.dataSync()[0]).toBeCloseTo(0.8, 6);
    const m = new Momentum(0.1, 0.9);
    m.applyGradients(new Map([['w', w]]), { w: tf.tensor([1]) }); // v = 1, w = 0.7
    m.applyGradients(new Map([['w', w]]), { w: tf.tensor([1]) }); // v = 1.9, w = 0.51
    expect(w.dataSync()[0]).toBeCloseTo(0.51, 6);
  });
});

describe('tfjs-layers models', () => {
  it('train with core optimizers under stable names, batch-norm state included', async () => {
    const { trainableFromLayers } = await import('./layers-model.js');
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 3, inputShape: [2] }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 1 }),
      ],
    });
    const t = trainableFromLayers(model);
    expect([...t.variables().keys()]).toEqual([
      'layers.0/kernel',
      'layers.0/bias',
      'layers.1/gamma',
      'layers.1/beta',
      'layers.2/kernel',
      'layers.2/bias',
    ]);
    expect([...t.state!().keys()]).toEqual(['layers.1/moving_mean', 'layers.1/moving_variance']);
    const x = tf.tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const y = tf.tensor([[1], [0], [1]]);
    const vars = t.variables();
    const before = vars.get('layers.0/kernel')!.dataSync().slice();
    const { grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      [...vars.values()],
    );
    const named: Record<string, tf.Tensor> = {};
    for (const [n, v] of vars) named[n] = grads[v.name];
    new GradientDescent(0.1).applyGradients(vars, named);
    expect(Array.from(vars.get('layers.0/kernel')!.dataSync())).not.toEqual(Array.from(before));
  });
});

describe('Dense on sequences', () => {
  it('applies to every time step of a [batch, time, features] input', () => {
    const layer = new Dense({ inputs: 3, units: 2, rng: new Rng(4) });
    const x = tf.randomNormal([2, 5, 3]);
    const y = layer.apply(x);
    expect(y.shape).toEqual([2, 5, 2]);
    const row = layer.apply(tf.slice(x, [1, 3, 0], [1, 1, 3]).reshape([1, 3])).dataSync();
    close(tf.slice(y, [1, 3, 0], [1, 1, 2]).dataSync(), row, 1e-6);
  });
});
