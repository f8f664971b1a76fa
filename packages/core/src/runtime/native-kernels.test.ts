import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nativeKernelWraps } from '../kernels/native/index.js';
import { useBackend } from './backends.js';
import { NATIVE_KERNELS, type NativeKernelStatus, nativeKernelStatus } from './native-kernels.js';

/**
 * The native kernels against tfjs' cpu backend (plain JavaScript, the reference) on random inputs.
 * They only run when @introdl/native is built; this environment is expected to build it, so its
 * absence is shouted, and the first test fails unless INTRODL_NATIVE_OPTIONAL=1.
 */

let status: NativeKernelStatus;
const optional = process.env.INTRODL_NATIVE_OPTIONAL === '1';

beforeAll(async () => {
  await useBackend('wasm'); // registers the wasm fixes, then the native kernels
  status = nativeKernelStatus()!;
  if (!status.active)
    process.stderr.write(`\n!!! native kernels NOT active: ${status.matmul}\n!!! their tests are skipped.\n\n`);
});

/** Deterministic values in [-1, 1). */
function random(shape: number[], seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Runs `fn` on one backend and returns every output's values and shape. */
async function on(backend: 'cpu' | 'wasm', fn: () => tf.Tensor | tf.Tensor[]) {
  await tf.setBackend(backend);
  const outs = tf.tidy(() => [fn()].flat());
  const result = await Promise.all(outs.map(async (t) => ({ shape: t.shape, values: await t.data() })));
  tf.dispose(outs);
  return result;
}

/** max |a − b| / max |b| over every output, after checking the shapes agree. */
function relativeError(a: Awaited<ReturnType<typeof on>>, b: Awaited<ReturnType<typeof on>>): number {
  expect(a.map((o) => o.shape)).toEqual(b.map((o) => o.shape));
  let worst = 0;
  for (let k = 0; k < a.length; k++) {
    let diff = 0;
    let scale = 1e-12;
    for (let i = 0; i < b[k].values.length; i++) {
      diff = Math.max(diff, Math.abs(a[k].values[i] - b[k].values[i]));
      scale = Math.max(scale, Math.abs(b[k].values[i]));
    }
    worst = Math.max(worst, diff / scale);
  }
  return worst;
}

/** The same computation on wasm (native kernels) and cpu; `reference` replaces `fn` on cpu when given. */
async function compare(fn: () => tf.Tensor | tf.Tensor[], reference = fn): Promise<number> {
  const wasm = await on('wasm', fn);
  const cpu = await on('cpu', reference);
  return relativeError(wasm, cpu);
}

const t = (shape: number[], seed: number) => tf.tensor(random(shape, seed), shape);

describe('native kernels', () => {
  it('have one wrapper for each kernel name they list', () => {
    // The wrappers only touch the addon when a kernel runs, so an empty one will do here.
    const wraps = nativeKernelWraps({} as Parameters<typeof nativeKernelWraps>[0]);
    expect(wraps.map(([name]) => name)).toEqual([...NATIVE_KERNELS]);
    for (const [, wrap] of wraps) expect(typeof wrap).toBe('function');
  });

  it.skipIf(optional)(
    'are active here (@introdl/native built; INTRODL_NATIVE_OPTIONAL=1 allows it to be missing)',
    () => {
      expect(status.matmul).toMatch(/^OpenBLAS/);
      expect(status.active).toBe(true);
      for (const name of NATIVE_KERNELS)
        expect(tf.getKernel(name, 'wasm')?.kernelFunc.name).toBe(`native${name.replace('_', '')}`);
    },
  );
});

describe.skipIf(!nativeAvailableSync())('native kernels vs the cpu backend (relative error ≤ 1e-5)', () => {
  const cases: [string, number[], number[], boolean, boolean][] = [
    ['2-D', [33, 47], [47, 29], false, false],
    ['2-D, A transposed', [47, 33], [47, 29], true, false],
    ['2-D, B transposed', [33, 47], [29, 47], false, true],
    ['2-D, both transposed', [47, 33], [29, 47], true, true],
    ['batched', [4, 5, 6], [4, 6, 7], false, false],
    ['batched, both transposed', [4, 6, 5], [4, 7, 6], true, true],
    ['batch folded into rows (3-D × 2-D)', [3, 5, 6], [6, 4], false, false],
    ['3-D × 2-D with A transposed', [3, 6, 5], [6, 4], true, false],
    ['2-D × 3-D, B transposed', [5, 6], [3, 4, 6], false, true],
    ['broadcast batch dims [2,1] × [3]', [2, 1, 5, 6], [3, 6, 4], false, false],
    ['broadcast batch dims [1,3] × [2,1], A transposed', [1, 3, 6, 5], [2, 1, 6, 4], true, false],
    ['one row times a transposed matrix (sgemv)', [1, 47], [29, 47], false, true],
    ['three rows folded, B transposed (sgemv per row)', [3, 1, 47], [29, 47], false, true],
  ];
  for (const [name, aShape, bShape, transA, transB] of cases) {
    it(`BatchMatMul: ${name}`, async () => {
      // tfjs' cpu kernel gets broadcasting across different batch axes wrong ([2,1] × [3] indexes the
      // batch modulo each side's size), so the reference broadcasts both operands explicitly first.
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
      const full = (x: tf.Tensor) => (outer.length ? tf.broadcastTo(x, [...outer, ...x.shape.slice(-2)]) : x);
      const err = await compare(
        () => tf.matMul(t(aShape, 1), t(bShape, 2), transA, transB),
        () => tf.matMul(full(t(aShape, 1)), full(t(bShape, 2)), transA, transB),
      );
      expect(err).toBeLessThanOrEqual(1e-5);
    });
  }

  it('_FusedMatMul: bias + relu, bias + linear, a [1,N] bias, and sigmoid (left to the wasm kernel)', async () => {
    const a = () => t([8, 12], 3);
    const b = () => t([12, 5], 4);
    for (const activation of ['relu', 'linear', 'sigmoid'] as const) {
      const err = await compare(() => tf.fused.matMul({ a: a(), b: b(), bias: t([5], 5), activation }));
      expect(err).toBeLessThanOrEqual(1e-5);
    }
    expect(await compare(() => tf.fused.matMul({ a: a(), b: b(), bias: t([1, 5], 6) }))).toBeLessThanOrEqual(1e-5);
    expect(
      await compare(() => tf.fused.matMul({ a: t([12, 8], 7), b: b(), transposeA: true, activation: 'relu' })),
    ).toBeLessThanOrEqual(1e-5);
  });

  const convCases: [
    string,
    number[],
    number[],
    [number, number],
    'same' | 'valid' | tf.backend_util.ExplicitPadding,
    number,
  ][] = [
    ['k5 s2 same (Lab 2 first block)', [2, 16, 16, 3], [5, 5, 3, 12], [2, 2], 'same', 1],
    ['k3 s1 same', [2, 9, 9, 4], [3, 3, 4, 6], [1, 1], 'same', 1],
    ['k3 s2 valid, odd size', [3, 11, 9, 5], [3, 3, 5, 7], [2, 2], 'valid', 1],
    [
      'explicit asymmetric padding',
      [2, 8, 7, 3],
      [3, 2, 3, 4],
      [1, 2],
      [
        [0, 0],
        [1, 2],
        [2, 0],
        [0, 0],
      ],
      1,
    ],
    ['1x1 (direct matmul)', [2, 6, 6, 8], [1, 1, 8, 5], [1, 1], 'valid', 1],
  ];
  for (const [name, xShape, fShape, strides, pad, dilation] of convCases) {
    it(`Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter: ${name}`, async () => {
      const err = await compare(() => {
        const x = t(xShape, 10);
        const f = t(fShape, 11);
        const conv = (xx: tf.Tensor4D, ff: tf.Tensor4D) => tf.conv2d(xx, ff, strides, pad, 'NHWC', dilation);
        const y = conv(x as tf.Tensor4D, f as tf.Tensor4D);
        const dy = t(y.shape, 12);
        // d/dx and d/df of Σ y·dy are exactly the two backprop kernels applied to dy.
        const [dx, df] = tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
          tf.sum(tf.mul(conv(xx as tf.Tensor4D, ff as tf.Tensor4D), dy)),
        )([x, f]);
        return [y, dx, df];
      });
      expect(err).toBeLessThanOrEqual(1e-5);
    });
  }

  it('Conv2D with dilation 2', async () => {
    expect(
      await compare(() =>
        tf.conv2d(t([2, 10, 10, 3], 13) as tf.Tensor4D, t([3, 3, 3, 4], 14) as tf.Tensor4D, 1, 'same', 'NHWC', 2),
      ),
    ).toBeLessThanOrEqual(1e-5);
  });

  it('FusedConv2D (inference path of tf.layers.conv2d): bias + relu', async () => {
    const err = await compare(() =>
      tf.fused.conv2d({
        x: t([2, 12, 12, 3], 15) as tf.Tensor4D,
        filter: t([5, 5, 3, 8], 16) as tf.Tensor4D,
        strides: 2,
        pad: 'same',
        bias: t([8], 17),
        activation: 'relu',
      }),
    );
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('conv2dTranspose (Conv2DBackpropInput on its own)', async () => {
    const err = await compare(() =>
      tf.conv2dTranspose(
        t([2, 4, 4, 6], 18) as tf.Tensor4D,
        t([3, 3, 5, 6], 19) as tf.Tensor4D,
        [2, 8, 8, 5],
        2,
        'same',
      ),
    );
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('Tile for float32, int32 and bool, including the [1,1,1,C] → [N,H,W,C] of BatchNorm gradients', async () => {
    const err = await compare(() => [
      tf.tile(t([1, 1, 1, 5], 21), [3, 4, 2, 1]),
      tf.tile(t([2, 3], 22), [2, 3]),
      tf.tile(tf.tensor([1, 2, 3], [3, 1], 'int32'), [2, 4]),
      tf.tile(tf.tensor([true, false], [2], 'bool'), [3]),
    ]);
    expect(err).toBe(0);
  });

  it('Sum and Mean over leading, trailing, middle and all axes, with keepDims; other cases left to wasm', async () => {
    // The cpu backend sums in float32 in its own order, so for many terms compare with a tolerance.
    const err = await compare(() => {
      const x = t([8, 6, 5, 7], 23);
      return [
        tf.sum(x, [0, 1, 2]), // BatchNorm's reduction over N, H, W
        tf.mean(x, [0, 1, 2], true),
        tf.sum(x, -1),
        tf.mean(x, [1, 2]),
        tf.sum(x),
        tf.mean(x, [0, 2]), // not contiguous: the wasm kernel
        tf.sum(tf.tensor([1, 2, 3], [3], 'int32')), // int32: the wasm kernel
      ];
    });
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('FusedBatchNorm with per-channel parameters, with and without scale and offset', async () => {
    const err = await compare(() => {
      const x = t([4, 5, 6, 3], 24);
      const [mean, variance] = [t([3], 25), tf.add(tf.abs(t([3], 26)), 0.1)];
      return [
        tf.batchNorm(x, mean, variance, t([3], 27), t([3], 28), 1e-3),
        tf.batchNorm(x, mean, variance, undefined, undefined, 1e-3),
      ];
    });
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('Add, Sub, Multiply, RealDiv with a per-channel vector either side; other broadcasts left to wasm', async () => {
    const err = await compare(() => {
      const x = t([4, 5, 6, 7], 29);
      const c = tf.add(tf.abs(t([7], 30)), 0.5); // no division by ~0
      const c4 = tf.reshape(c, [1, 1, 1, 7]);
      return [
        tf.add(x, c),
        tf.sub(x, c4),
        tf.sub(c, x),
        tf.mul(c4, x),
        tf.div(x, c),
        tf.div(c4, tf.add(tf.abs(x), 0.5)),
        tf.mul(x, t([6, 1], 31)), // not along the last axis: wasm
        tf.add(x, x), // same shape: wasm
        tf.add(tf.tensor([1, 2], [2], 'int32'), tf.tensor([3, 4], [1, 2], 'int32')), // int32: wasm
      ];
    });
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  it('gradients of a small conv net (tf.layers, Lab 2 shape) agree in shape and value', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [16, 16, 3],
          filters: 6,
          kernelSize: 5,
          strides: 2,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.batchNormalization(),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
        tf.layers.batchNormalization(),
        tf.layers.flatten(),
        tf.layers.dense({ units: 16, activation: 'relu' }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.setWeights(model.getWeights().map((w, i) => tf.tensor(random(w.shape, 100 + i), w.shape)));
    const x = random([4, 16, 16, 3], 20);
    const y = Float32Array.of(1, 0, 1, 0);
    const grads = () => {
      const { grads } = tf.variableGrads(() => {
        const logits = model.apply(tf.tensor(x, [4, 16, 16, 3]), { training: true }) as tf.Tensor;
        return tf.losses.sigmoidCrossEntropy(tf.tensor(y, [4, 1]), logits) as tf.Scalar;
      });
      return model.trainableWeights.map((w) => grads[w.read().name]);
    };
    const cpu = await on('cpu', grads);
    const wasm = await on('wasm', grads);
    expect(cpu).toHaveLength(model.trainableWeights.length);
    expect(relativeError(wasm, cpu)).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });
});

describe('without the native kernels', () => {
  /** Activates wasm in a fresh process; reports the backend detail, the Conv2D kernel in use, and a conv's error vs cpu. */
  function wasmInChild(env: Record<string, string>, extraNodeArgs: string[] = []) {
    const backends = path.join(path.dirname(fileURLToPath(import.meta.url)), 'backends.ts');
    const script = `const { useBackend } = await import(${JSON.stringify(backends)});
      const tf = await import('@tensorflow/tfjs');
      const conv = () => tf.conv2d(tf.range(0, 2 * 6 * 6 * 3).reshape([2, 6, 6, 3]).div(50), tf.ones([3, 3, 3, 4]), 2, 'same').dataSync();
      const sel = await useBackend('wasm');
      const wasm = conv();
      await tf.setBackend('cpu');
      const cpu = conv();
      const err = Math.max(...wasm.map((v, i) => Math.abs(v - cpu[i])));
      console.log(JSON.stringify({ detail: sel.detail, kernel: tf.getKernel('Conv2D', 'wasm').kernelFunc.name, err }));`;
    const r = spawnSync(process.execPath, [...extraNodeArgs, '--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { detail: string; kernel: string; err: number };
  }

  it('INTRODL_NATIVE=0 leaves the wasm kernels in place and says so', () => {
    const out = wasmInChild({ INTRODL_NATIVE: '0' });
    expect(out.detail).toMatch(/matmul: wasm \(native kernels off: INTRODL_NATIVE=0\)/);
    expect(out.kernel).not.toMatch(/^native/);
    expect(out.err).toBeLessThan(1e-4);
  });

  it('falls back to wasm, saying why, when @introdl/native cannot be found', () => {
    // A resolve hook makes the optional package look uninstalled, as after a failed optional install.
    const hook = `export async function resolve(spec, ctx, next) {
      if (spec === '@introdl/native') throw Object.assign(new Error('Cannot find package @introdl/native'), { code: 'ERR_MODULE_NOT_FOUND' });
      return next(spec, ctx);
    }`;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
    const out = wasmInChild({}, ['--import', `data:text/javascript,${encodeURIComponent(register)}`]);
    expect(out.detail).toMatch(/matmul: wasm \(native addon not built: optional @introdl\/native is not installed\)/);
    expect(out.kernel).not.toMatch(/^native/);
    expect(out.err).toBeLessThan(1e-4);
  });
});

/** Whether the addon is built, decided before the suites are collected (describe.skipIf is synchronous). */
function nativeAvailableSync(): boolean {
  if (process.env.INTRODL_NATIVE === '0') return false;
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', "(await import('@introdl/native')).loadNative()"],
    {
      encoding: 'utf8',
    },
  );
  return r.status === 0;
}
