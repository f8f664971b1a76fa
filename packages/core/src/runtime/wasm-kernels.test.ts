import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../rng.js';
import { useBackend } from './backends.js';
import { wasmKernelFixesEnabled } from './wasm-kernels.js';

/** Each fixed wasm kernel must compute what the cpu backend computes: relative error ≤ 1e-5. */

beforeAll(async () => {
  // These tests are about our wasm kernels: keep the native addon's kernels (which would replace
  // several of them when @introdl/native is built) out of this process.
  process.env.INTRODL_NATIVE = '0';
  await useBackend('wasm');
});

function randomArray(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Runs `f` on a backend and returns its result's values (tensors are freed). */
async function valuesOn(backend: 'wasm' | 'cpu', f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => t.dataSync() as Float32Array);
  tf.dispose(list);
  return values;
}

/** max |a − b| / max(|b|) over the whole array: the relative error of a result. */
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

async function expectSameOnBothBackends(f: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const wasm = await valuesOn('wasm', f);
  const cpu = await valuesOn('cpu', f);
  expect(wasm.length).toBe(cpu.length);
  wasm.forEach((w, i) => {
    expect(w.every(Number.isFinite)).toBe(true);
    expect(relativeError(w, cpu[i])).toBeLessThanOrEqual(1e-5);
  });
}

// With INTRODL_WASM_FIXES=0 the stock kernels are in place and the missing ones fail, as intended.
describe.skipIf(!wasmKernelFixesEnabled())('wasm kernel fixes', () => {
  it('fill the kernels stock wasm lacks', () => {
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('UnsortedSegmentSum matches cpu, dropping ids out of range', async () => {
    const rng = new Rng(1);
    const x = randomArray(50 * 3 * 4, rng);
    const ids = Int32Array.from({ length: 50 }, (_, i) => (i % 9) - 1); // −1 and 7 are dropped
    await expectSameOnBothBackends(() =>
      tf.unsortedSegmentSum(tf.tensor3d(x, [50, 3, 4]), tf.tensor1d(ids, 'int32'), 7),
    );
    const wasm = await valuesOn('wasm', () =>
      tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 0, 2], 'int32'), 3),
    );
    expect(Array.from(wasm[0])).toEqual([2, 2, 0, 0, 1, 1]);
  });

  it('the gradient of gather (an embedding lookup) matches cpu', async () => {
    const rng = new Rng(2);
    const table = randomArray(11 * 6, rng);
    const ids = Int32Array.from({ length: 4 * 5 }, () => rng.int(11));
    const weights = randomArray(4 * 5 * 6, rng);
    await expectSameOnBothBackends(() =>
      tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(tf.gather(t, tf.tensor2d(ids, [4, 5], 'int32')), tf.tensor3d(weights, [4, 5, 6]))),
      )(tf.tensor2d(table, [11, 6])),
    );
  });

  const convCases: {
    name: string;
    x: number[];
    f: number[];
    stride: number | [number, number];
    pad: 'same' | 'valid';
  }[] = [
    { name: '3×3 same stride 1', x: [2, 7, 6, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
    { name: '3×3 same stride 2', x: [2, 9, 8, 2], f: [3, 3, 2, 5], stride: 2, pad: 'same' },
    { name: '5×5 valid stride 2 (unused last row)', x: [3, 12, 11, 3], f: [5, 5, 3, 4], stride: 2, pad: 'valid' },
    { name: '4×2 same strides [2, 3]', x: [1, 10, 9, 2], f: [4, 2, 2, 3], stride: [2, 3], pad: 'same' },
    { name: '1×1 valid', x: [2, 5, 5, 4], f: [1, 1, 4, 6], stride: 1, pad: 'valid' },
  ];
  for (const c of convCases) {
    it(`Conv2DBackpropFilter matches cpu: ${c.name}`, async () => {
      const rng = new Rng(3);
      const x = randomArray(
        c.x.reduce((a, b) => a * b),
        rng,
      );
      const w = randomArray(
        c.f.reduce((a, b) => a * b),
        rng,
      );
      await expectSameOnBothBackends(() => {
        const xt = tf.tensor4d(x, c.x as [number, number, number, number]);
        const loss = (filter: tf.Tensor) => {
          const y = tf.conv2d(xt, filter as tf.Tensor4D, c.stride, c.pad);
          return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
        };
        return tf.grad(loss)(tf.tensor4d(w, c.f as [number, number, number, number]));
      });
    });
  }

  for (const c of convCases) {
    it(`Conv2DBackpropInput matches cpu: ${c.name}`, async () => {
      const rng = new Rng(7);
      const x = c.x as [number, number, number, number];
      const w = randomArray(
        c.f.reduce((a, b) => a * b),
        rng,
      );
      const f = c.f as [number, number, number, number];
      const dyShape = tf.backend_util.computeConv2DInfo(x, f, c.stride, 1, c.pad).outShape;
      const dy = randomArray(
        dyShape.reduce((a, b) => a * b),
        rng,
      );
      await expectSameOnBothBackends(() =>
        tf.conv2dTranspose(tf.tensor4d(dy, dyShape), tf.tensor4d(w, f), x, c.stride, c.pad),
      );
    });
  }

  it('a conv layer trains on wasm: input and filter gradients match cpu', async () => {
    const rng = new Rng(4);
    const x = randomArray(4 * 16 * 16 * 3, rng);
    const w = randomArray(5 * 5 * 3 * 8, rng);
    await expectSameOnBothBackends(() => {
      const f = (xi: tf.Tensor, wi: tf.Tensor) =>
        tf.sum(tf.square(tf.relu(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 2, 'same'))));
      return tf.grads(f)([tf.tensor4d(x, [4, 16, 16, 3]), tf.tensor4d(w, [5, 5, 3, 8])]);
    });
  });

  it('Slice, SplitV and Unpack match cpu exactly, for any rank, dtype and block', async () => {
    const rng = new Rng(6);
    const x = randomArray(3 * 4 * 5 * 6, rng);
    const ints = Int32Array.from({ length: 2 * 7 * 3 }, () => rng.int(100) - 50);
    await expectSameOnBothBackends(() => {
      const t = tf.tensor4d(x, [3, 4, 5, 6]);
      const i = tf.tensor3d(ints, [2, 7, 3], 'int32');
      return [
        tf.slice(t, [1, 0, 0, 0], [1, 4, 5, 6]), // contiguous
        tf.slice(t, [0, 1, 0, 0], [3, 2, 5, 6]), // runs of whole trailing axes
        tf.slice(t, [1, 1, 2, 3], [2, 3, 2, 3]), // short runs
        tf.slice(t, [0, 0, 0, 5], [3, 4, 5, 1]), // one element per run
        tf.slice(tf.tensor1d(x.subarray(0, 10)), [3], [4]),
        tf.cast(tf.slice(i, [1, 2, 0], [1, 4, 2]), 'float32'),
        tf.cast(tf.slice(tf.greater(t, 0), [0, 1, 1, 1], [2, 2, 2, 2]), 'float32'),
        ...tf.split(t, [1, 3, 2], 3),
        ...tf.split(t, 2, 1),
        ...tf.unstack(t, 2),
        ...tf.unstack(i, 1).map((u) => tf.cast(u, 'float32')),
      ];
    });
    const wasm = await valuesOn('wasm', () => tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), [0, 1], [2, 2]));
    expect(Array.from(wasm[0])).toEqual([2, 3, 5, 6]);
  });

  it('GatherV2 matches cpu on any axis and dtype, and rejects ids out of range', async () => {
    const rng = new Rng(8);
    const x = randomArray(4 * 5 * 6, rng);
    await expectSameOnBothBackends(() => {
      const t = tf.tensor3d(x, [4, 5, 6]);
      return [
        tf.gather(t, [3, 0, 3]),
        tf.gather(t, tf.tensor2d([4, 1, 0, 2], [2, 2], 'int32'), 1),
        tf.gather(t, [5], 2),
        tf.cast(tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), [2, 2, 0]), 'float32'),
        tf.gather(t, tf.tensor1d([], 'int32')),
      ];
    });
    await tf.setBackend('wasm');
    expect(() => tf.gather(tf.ones([3, 2]), [3])).toThrow(/index value 3 is not in \[0, 2\]/);
    expect(() => tf.gather(tf.ones([3, 2]), [-1])).toThrow(/not in \[0, 2\]/);
  });

  it('Identity (clone, tensors kept for gradients) shares data instead of copying it', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    // Under a gradient tape each step makes two buffers (matmul, tanh); the stock kernel added a
    // copy of every tensor kept for the gradient (the weight and the step's input and output).
    const w = tf.variable(tf.ones([64, 64]));
    const h = tf.ones([1, 64]);
    const base = tf.memory().numDataBuffers;
    let made = 0;
    const g = tf.grad((v: tf.Tensor) => {
      let s = tf.matMul(h, v);
      for (let t = 0; t < 100; t++) s = tf.matMul(tf.tanh(s), v);
      made = tf.memory().numDataBuffers - base;
      return tf.sum(s);
    })(w);
    g.dispose();
    tf.dispose([w, h]);
    expect(made).toBeLessThanOrEqual(2 * 101);
  });

  it('BatchMatMul with transposed operands matches cpu', async () => {
    const rng = new Rng(5);
    const a = randomArray(3 * 7 * 5, rng);
    const b = randomArray(3 * 5 * 4, rng);
    await expectSameOnBothBackends(() => {
      const at = tf.tensor3d(a, [3, 7, 5]);
      const bt = tf.tensor3d(b, [3, 5, 4]);
      return [
        tf.matMul(tf.transpose(at, [0, 2, 1]), bt, true, false),
        tf.matMul(at, tf.transpose(bt, [0, 2, 1]), false, true),
        tf.matMul(tf.transpose(at, [0, 2, 1]), tf.transpose(bt, [0, 2, 1]), true, true),
      ];
    });
  });
});
