import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BadShapeError } from '../errors.js';
import { type FusedLoop, lstmSequenceFused } from '../kernels/lstm/fused.js';
import { lstmSequencePlain } from '../kernels/lstm/plain.js';
import type { LstmSequenceResult, LstmState, LstmWeights } from '../kernels/lstm/types.js';
import { Rng } from '../rng.js';
import { useBackend } from '../runtime/backends.js';
import { Dense } from './dense.js';
import { Embedding } from './embedding.js';
import { LSTM } from './lstm.js';
import { Sequential } from './sequential.js';

beforeAll(async () => {
  await useBackend('wasm'); // registers the wasm backend and its kernel fixes
  await tf.setBackend('cpu');
});

afterEach(async () => {
  await tf.setBackend('cpu');
});

interface Problem {
  batch: number;
  time: number;
  inputs: number;
  units: number;
  x: Float32Array;
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  bias: Float32Array;
  h0: Float32Array;
  c0: Float32Array;
  /** Weights of the loss: Σ outputs·r + Σ h_T·rh + Σ c_T·rc, so every output path carries gradient. */
  r: Float32Array;
  rh: Float32Array;
  rc: Float32Array;
}

function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

function problem(batch: number, time: number, inputs: number, units: number, seed: number): Problem {
  const rng = new Rng(seed);
  return {
    batch,
    time,
    inputs,
    units,
    x: randomArray(batch * time * inputs, rng),
    kernel: randomArray(inputs * 4 * units, rng, 1 / Math.sqrt(inputs)),
    recurrentKernel: randomArray(units * 4 * units, rng, 1 / Math.sqrt(units)),
    bias: randomArray(4 * units, rng, 0.5),
    h0: randomArray(batch * units, rng, 0.5),
    c0: randomArray(batch * units, rng, 0.5),
    r: randomArray(batch * time * units, rng),
    rh: randomArray(batch * units, rng),
    rc: randomArray(batch * units, rng),
  };
}

/** max |a − b| / max |b|: the normwise relative error of one result. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

type Impl = (x: tf.Tensor3D, w: LstmWeights, s: LstmState) => LstmSequenceResult;

const NAMES = ['outputs', 'h', 'c', 'dx', 'dkernel', 'drecurrent', 'dbias', 'dh0', 'dc0'] as const;

/** Runs an implementation on the active backend: outputs, final state and every gradient of the loss. */
function evaluate(p: Problem, impl: Impl): Map<string, Float32Array> {
  return tf.tidy(() => {
    const vars = [
      tf.variable(tf.tensor3d(p.x, [p.batch, p.time, p.inputs])),
      tf.variable(tf.tensor2d(p.kernel, [p.inputs, 4 * p.units])),
      tf.variable(tf.tensor2d(p.recurrentKernel, [p.units, 4 * p.units])),
      tf.variable(tf.tensor1d(p.bias)),
      tf.variable(tf.tensor2d(p.h0, [p.batch, p.units])),
      tf.variable(tf.tensor2d(p.c0, [p.batch, p.units])),
    ];
    const [x, kernel, recurrentKernel, bias, h, c] = vars as unknown as [
      tf.Tensor3D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor2D,
    ];
    let forward: Float32Array[] = [];
    const { grads } = tf.variableGrads(() => {
      const result = impl(x, { kernel, recurrentKernel, bias }, { h, c });
      forward = [result.outputs, result.state.h, result.state.c].map((t) => t.dataSync() as Float32Array);
      return tf.addN([
        tf.sum(tf.mul(result.outputs, tf.tensor3d(p.r, [p.batch, p.time, p.units]))),
        tf.sum(tf.mul(result.state.h, tf.tensor2d(p.rh, [p.batch, p.units]))),
        tf.sum(tf.mul(result.state.c, tf.tensor2d(p.rc, [p.batch, p.units]))),
      ]) as tf.Scalar;
    }, vars);
    const values = [...forward, ...vars.map((v) => grads[v.name].dataSync() as Float32Array)];
    tf.dispose(vars);
    return new Map(NAMES.map((n, i) => [n, values[i]]));
  });
}

/** tf.layers.lstm with the same weights and the course's settings, run from the same initial state. */
const layersLstm: Impl = (x, w, s) => {
  const units = s.h.shape[1];
  const layer = tf.layers.lstm({ units, returnSequences: true, returnState: true, recurrentActivation: 'sigmoid' });
  layer.apply(x, { initialState: [s.h, s.c] }); // builds the layer (its output is not used)
  layer.setWeights([w.kernel, w.recurrentKernel, w.bias]);
  // setWeights copies values: route gradients through the copies by making the layer read ours.
  const [kv, rv, bv] = layer.trainableWeights;
  (kv as unknown as { val: tf.Tensor }).val = w.kernel;
  (rv as unknown as { val: tf.Tensor }).val = w.recurrentKernel;
  (bv as unknown as { val: tf.Tensor }).val = w.bias;
  const [outputs, h, c] = layer.apply(x, { initialState: [s.h, s.c] }) as tf.Tensor[];
  return { outputs: outputs as tf.Tensor3D, state: { h: h as tf.Tensor2D, c: c as tf.Tensor2D } };
};

const plain: Impl = (x, w, s) => lstmSequencePlain(x, w, s);
const fused =
  (loop: FusedLoop): Impl =>
  (x, w, s) =>
    lstmSequenceFused(x, w, s, loop);

function expectAgree(a: Map<string, Float32Array>, b: Map<string, Float32Array>, tol = 1e-4): void {
  for (const name of NAMES) {
    const err = relativeError(a.get(name) as Float32Array, b.get(name) as Float32Array);
    expect(err, `${name}: relative error ${err}`).toBeLessThanOrEqual(tol);
  }
}

describe('LSTM sequence implementations agree (outputs, final state, all six gradients)', () => {
  const small = problem(3, 7, 5, 6, 1);

  it('plain per-step ops equal tf.layers.lstm on cpu', () => {
    expectAgree(evaluate(small, plain), evaluate(small, layersLstm));
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    for (const loop of ['typed', 'tensors'] as const) {
      it(`fused (${loop} loops) equals plain and tf.layers.lstm on ${backend}`, async () => {
        await tf.setBackend(backend);
        const p = backend === 'cpu' ? small : problem(4, 12, 16, 32, 2);
        const got = evaluate(p, fused(loop));
        expectAgree(got, evaluate(p, plain));
        expectAgree(got, evaluate(p, layersLstm));
      });
    }
  }

  // tf.layers.lstm cannot differentiate a one-step sequence (its Unpack gradient fails), so plain is the reference.
  it('a sequence of one step works, and the gradient is not trivially zero', () => {
    const p = problem(2, 1, 3, 4, 3);
    const got = evaluate(p, fused('typed'));
    expectAgree(got, evaluate(p, plain));
    expect(Math.max(...(got.get('drecurrent') as Float32Array).map(Math.abs))).toBeGreaterThan(1e-3);
  });
});

describe('LSTM layer', () => {
  it('has Keras variables, shapes and initialisation (unit forget bias, Glorot limits)', () => {
    const lstm = new LSTM({ inputs: 5, units: 3, rng: new Rng(1) });
    expect([...lstm.variables().keys()]).toEqual(['kernel', 'recurrent_kernel', 'bias']);
    expect(lstm.kernel.shape).toEqual([5, 12]);
    expect(lstm.recurrentKernel.shape).toEqual([3, 12]);
    expect(Array.from(lstm.bias.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const limit = Math.sqrt(6 / (5 + 12));
    const k = lstm.kernel.dataSync();
    expect(Math.max(...k.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...k.map(Math.abs))).toBeGreaterThan(limit * 0.8);
    expect(lstm.outputShape([null, 10, 5])).toEqual([null, 10, 3]);
    const again = new LSTM({ inputs: 5, units: 3, rng: new Rng(1) });
    expect(Array.from(again.recurrentKernel.dataSync())).toEqual(Array.from(lstm.recurrentKernel.dataSync()));
  });

  it('Lab 1 model: Embedding 256 → LSTM 1024 → Dense 83 has 5,353,299 parameters', () => {
    const rng = new Rng(0);
    const model = new Sequential([
      new Embedding({ inputDim: 83, outputDim: 256, rng }),
      new LSTM({ inputs: 256, units: 1024, rng }),
      new Dense({ inputs: 1024, units: 83, rng }),
    ]);
    expect(model.countParams()).toBe(5_353_299);
    expect(model.summary([null, 100])).toContain('[batch, 100, 1024]');
    model.dispose();
  });

  it('fused is the default; fused: false and INTRODL_FUSED=0 turn it off; both give the same outputs', () => {
    const fusedLayer = new LSTM({ inputs: 4, units: 5, rng: new Rng(2) });
    const plainLayer = new LSTM({ inputs: 4, units: 5, rng: new Rng(2), fused: false });
    expect(fusedLayer.fused).toBe(true);
    expect(plainLayer.fused).toBe(false);
    const saved = process.env.INTRODL_FUSED;
    process.env.INTRODL_FUSED = '0';
    expect(fusedLayer.fused).toBe(false);
    if (saved === undefined) delete process.env.INTRODL_FUSED;
    else process.env.INTRODL_FUSED = saved;
    const x = tf.randomNormal([2, 6, 4], 0, 1, 'float32', 3);
    expect(relativeError(fusedLayer.apply(x).dataSync(), plainLayer.apply(x).dataSync())).toBeLessThan(1e-5);
  });

  it('run carries state: two halves from the carried state equal the whole sequence', () => {
    const lstm = new LSTM({ inputs: 3, units: 4, rng: new Rng(4) });
    const x = tf.randomNormal([2, 8, 3], 0, 1, 'float32', 5);
    const whole = lstm.run(x);
    const first = lstm.run(tf.slice(x, [0, 0, 0], [2, 4, 3]));
    const second = lstm.run(tf.slice(x, [0, 4, 0], [2, 4, 3]), first.state);
    const joined = tf.concat([first.outputs, second.outputs], 1);
    expect(relativeError(joined.dataSync(), whole.outputs.dataSync())).toBeLessThan(1e-6);
    expect(relativeError(second.state.c.dataSync(), whole.state.c.dataSync())).toBeLessThan(1e-6);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`step by step generation equals the sequence, with a constant tensor count (${backend})`, async () => {
      await tf.setBackend(backend);
      const lstm = new LSTM({ inputs: 3, units: 8, rng: new Rng(6) });
      const x = tf.randomNormal([1, 20, 3], 0, 1, 'float32', 7);
      const whole = lstm.run(x);
      let state: LstmState = lstm.initialState(1);
      const counts: number[] = [];
      const hs: Float32Array[] = [];
      for (let t = 0; t < 20; t++) {
        const xt = tf.tidy(() => tf.reshape(tf.slice(x, [0, t, 0], [1, 1, 3]), [1, 3]) as tf.Tensor2D);
        const next = lstm.step(xt, state);
        tf.dispose([xt, state.h, state.c]);
        state = next;
        hs.push(state.h.dataSync() as Float32Array);
        counts.push(tf.memory().numTensors);
      }
      expect(new Set(counts.slice(1)).size).toBe(1);
      const stepped = Float32Array.from(hs.flatMap((h) => Array.from(h)));
      expect(relativeError(stepped, whole.outputs.dataSync())).toBeLessThan(1e-5);
      expect(relativeError(state.c.dataSync(), whole.state.c.dataSync())).toBeLessThan(1e-5);
    });
  }

  it('stepProjected from a projected embedding table equals step', () => {
    const lstm = new LSTM({ inputs: 4, units: 6, rng: new Rng(8) });
    const table = tf.randomNormal([10, 4], 0, 1, 'float32', 9) as tf.Tensor2D;
    const projected = lstm.projectInputs(table);
    const ids = tf.tensor1d([3, 7], 'int32');
    const a = lstm.step(tf.gather(table, ids) as tf.Tensor2D);
    const b = lstm.stepProjected(tf.gather(projected, ids) as tf.Tensor2D);
    expect(relativeError(a.h.dataSync(), b.h.dataSync())).toBeLessThan(1e-6);
    expect(relativeError(a.c.dataSync(), b.c.dataSync())).toBeLessThan(1e-6);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`training frees everything it allocates (${backend})`, async () => {
      await tf.setBackend(backend);
      const lstm = new LSTM({ inputs: 3, units: 5, rng: new Rng(10) });
      const x = tf.randomNormal([2, 9, 3], 0, 1, 'float32', 11);
      const vars = [...lstm.variables().values()];
      const once = () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(lstm.apply(x))) as tf.Scalar, vars);
        tf.dispose([value, ...Object.values(grads)]);
      };
      once();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) once();
      expect(tf.memory().numTensors).toBe(before);
      const out = lstm.apply(x);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('rejects inputs and states of the wrong shape with a clear error', () => {
    const lstm = new LSTM({ inputs: 3, units: 4 });
    expect(() => lstm.apply(tf.zeros([2, 5, 4]))).toThrow(BadShapeError);
    expect(() => lstm.apply(tf.zeros([2, 3]))).toThrow(/lstm input: expected shape \[batch, time ≥ 1, 3\]/);
    expect(() => lstm.run(tf.zeros([2, 5, 3]), lstm.initialState(3))).toThrow(/state h/);
    expect(() => lstm.step(tf.zeros([1, 2]) as tf.Tensor2D)).toThrow(BadShapeError);
    expect(() => new LSTM({ inputs: 3, units: 0 })).toThrow(/units must be a positive integer/);
  });
});
