import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ConvGeometry, loadNative, nativeStatus, packGeometry } from './index.js';

const status = nativeStatus();
const optional = process.env.INTRODL_NATIVE_OPTIONAL === '1';
if (!status.available) {
  process.stderr.write(
    `\n!!! @introdl/native is NOT BUILT: ${status.reason}\n!!! Its tests are skipped; introdl falls back to wasm.\n\n`,
  );
}

/** A deterministic pseudo-random Float32Array in [-1, 1). */
function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  expect(worst / scale).toBeLessThanOrEqual(tol);
}

/** Reference C = alpha·op(A)·op(B) + beta·C in float64. */
function naiveGemm(
  ta: boolean,
  tb: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
): Float32Array {
  const out = Float32Array.from(C);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++)
        sum += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      out[i * ldc + j] = alpha * sum + beta * C[i * ldc + j];
    }
  return out;
}

/** Reference NHWC convolution and its gradients, straight from the definition. */
function naiveConv(g: ConvGeometry, x: Float32Array, f: Float32Array) {
  const y = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
  forEachTap(g, (xi, fi, yi) => {
    for (let o = 0; o < g.outChannels; o++) y[yi + o] += x[xi] * f[fi + o];
  });
  return y;
}
function naiveBackpropInput(g: ConvGeometry, dy: Float32Array, f: Float32Array) {
  const dx = new Float32Array(g.batch * g.inHeight * g.inWidth * g.inChannels);
  forEachTap(g, (xi, fi, yi) => {
    for (let o = 0; o < g.outChannels; o++) dx[xi] += dy[yi + o] * f[fi + o];
  });
  return dx;
}
function naiveBackpropFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array) {
  const df = new Float32Array(g.filterHeight * g.filterWidth * g.inChannels * g.outChannels);
  forEachTap(g, (xi, fi, yi) => {
    for (let o = 0; o < g.outChannels; o++) df[fi + o] += x[xi] * dy[yi + o];
  });
  return df;
}
/** Calls visit(x index, filter row start, y row start) for every in-image tap of every output pixel and channel. */
function forEachTap(g: ConvGeometry, visit: (xi: number, fi: number, yi: number) => void) {
  for (let n = 0; n < g.batch; n++)
    for (let oy = 0; oy < g.outHeight; oy++)
      for (let ox = 0; ox < g.outWidth; ox++)
        for (let ky = 0; ky < g.filterHeight; ky++)
          for (let kx = 0; kx < g.filterWidth; kx++) {
            const iy = oy * g.strideHeight - g.padTop + ky * g.dilationHeight;
            const ix = ox * g.strideWidth - g.padLeft + kx * g.dilationWidth;
            if (iy < 0 || iy >= g.inHeight || ix < 0 || ix >= g.inWidth) continue;
            for (let c = 0; c < g.inChannels; c++) {
              const xi = ((n * g.inHeight + iy) * g.inWidth + ix) * g.inChannels + c;
              const fi = ((ky * g.filterWidth + kx) * g.inChannels + c) * g.outChannels;
              const yi = ((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels;
              visit(xi, fi, yi);
            }
          }
}

function geometry(partial: Partial<ConvGeometry> & { inHeight: number; filterHeight: number }): ConvGeometry {
  const g = {
    batch: 2,
    inWidth: partial.inHeight,
    inChannels: 3,
    outChannels: 4,
    filterWidth: partial.filterHeight,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 0,
    padLeft: 0,
    outHeight: 0,
    outWidth: 0,
    ...partial,
  };
  // 'same'-style output size for the given padding on both sides when not given.
  const out = (size: number, k: number, s: number, d: number, p: number) =>
    Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  g.outHeight ||= out(g.inHeight, g.filterHeight, g.strideHeight, g.dilationHeight, g.padTop);
  g.outWidth ||= out(g.inWidth, g.filterWidth, g.strideWidth, g.dilationWidth, g.padLeft);
  return g;
}

describe('@introdl/native build', () => {
  it("reports the install script's reason when the addon is not built", () => {
    // A copy of the package without build/, as after a failed install.
    const root = mkdtempSync(path.join(os.tmpdir(), 'introdl-native-test-'));
    try {
      mkdirSync(path.join(root, 'src'));
      copyFileSync(
        path.join(path.dirname(fileURLToPath(import.meta.url)), 'index.ts'),
        path.join(root, 'src', 'index.ts'),
      );
      writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
      writeFileSync(path.join(root, 'install-error.txt'), 'OpenBLAS headers (cblas.h) not found\n');
      const script = `const m = await import(${JSON.stringify(path.join(root, 'src', 'index.ts'))});
        let thrown = '';
        try { m.loadNative(); } catch (e) { thrown = e.name; }
        console.log(JSON.stringify({ status: m.nativeStatus(), thrown }));`;
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      expect(out.thrown).toBe('NativeUnavailableError');
      expect(out.status).toEqual({
        available: false,
        reason: 'OpenBLAS headers (cblas.h) not found; rebuild with `npm rebuild @introdl/native`',
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.skipIf(optional && !status.available)(
    'is built and loads here (INTRODL_NATIVE_OPTIONAL=1 allows it to be missing)',
    () => {
      if (!status.available) throw new Error(`@introdl/native is not built: ${status.reason}`);
      expect(status.blas.config).toMatch(/OpenBLAS/);
      expect(status.blas.threads).toBeGreaterThanOrEqual(1);
    },
  );
});

describe.skipIf(!status.available)('@introdl/native', () => {
  const m = status.available ? loadNative() : (undefined as never);

  it('sgemm matches a float64 reference for every transpose pair, alpha, beta and padded leading dimensions', () => {
    const [M, N, K] = [7, 5, 9];
    for (const ta of [false, true])
      for (const tb of [false, true]) {
        const lda = (ta ? M : K) + 2;
        const ldb = (tb ? K : N) + 1;
        const ldc = N + 3;
        const A = random((ta ? K : M) * lda, 1);
        const B = random((tb ? N : K) * ldb, 2);
        const C = random(M * ldc, 3);
        const expected = naiveGemm(ta, tb, M, N, K, 0.5, A, lda, B, ldb, 2, C, ldc);
        m.sgemm(ta, tb, M, N, K, 0.5, A, lda, B, ldb, 2, C, ldc);
        expectClose(C, expected);
      }
  });

  it('computes in place on views of a WebAssembly.Memory, leaving the bytes around the output alone', () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const heap = new Float32Array(memory.buffer);
    heap.fill(-7);
    const [M, N, K] = [16, 12, 20];
    const A = new Float32Array(memory.buffer, 64, M * K);
    const B = new Float32Array(memory.buffer, 64 + 4 * M * K, K * N);
    const cOffset = 4096;
    const C = new Float32Array(memory.buffer, cOffset, M * N);
    A.set(random(M * K, 4));
    B.set(random(K * N, 5));
    const expected = naiveGemm(false, false, M, N, K, 1, A, K, B, N, 0, new Float32Array(M * N), N);
    m.sgemm(false, false, M, N, K, 1, A, K, B, N, 0, C, N);
    // Read back through a different view of the same buffer: the addon wrote the wasm memory itself.
    expectClose(heap.subarray(cOffset / 4, cOffset / 4 + M * N), expected);
    expect(heap[cOffset / 4 - 1]).toBe(-7);
    expect(heap[cOffset / 4 + M * N]).toBe(-7);
  });

  it('sgemmStridedBatched runs each product of a batch and broadcasts an operand with stride 0', () => {
    const [M, N, K, batch] = [3, 4, 5, 3];
    const A = random(batch * M * K, 6);
    const B = random(K * N, 7); // one B for every product
    const C = new Float32Array(batch * M * N);
    m.sgemmStridedBatched(false, false, M, N, K, 1, A, K, M * K, B, N, 0, 0, C, N, M * N, batch);
    for (let i = 0; i < batch; i++) {
      const expected = naiveGemm(
        false,
        false,
        M,
        N,
        K,
        1,
        A.subarray(i * M * K),
        K,
        B,
        N,
        0,
        new Float32Array(M * N),
        N,
      );
      expectClose(C.subarray(i * M * N, (i + 1) * M * N), expected);
    }
  });

  const geometries: Record<string, ConvGeometry> = {
    'k3 s1 same': geometry({ inHeight: 6, filterHeight: 3, padTop: 1, padLeft: 1 }),
    'k5 s2 same (Lab 2 block)': geometry({
      inHeight: 9,
      filterHeight: 5,
      strideHeight: 2,
      strideWidth: 2,
      padTop: 2,
      padLeft: 2,
    }),
    'k3 s2 valid, non-square': geometry({ inHeight: 7, inWidth: 10, filterHeight: 3, filterWidth: 2, strideHeight: 2 }),
    'k3 dilation 2': geometry({
      inHeight: 8,
      filterHeight: 3,
      dilationHeight: 2,
      dilationWidth: 2,
      padTop: 2,
      padLeft: 2,
    }),
    '1x1 (direct matmul path)': geometry({ inHeight: 5, filterHeight: 1, inChannels: 6, outChannels: 7 }),
    'odd padding, one image': geometry({ batch: 1, inHeight: 5, filterHeight: 4, padTop: 1, padLeft: 2 }),
    // Each image's im2col matrix (1600 × 200 floats) exceeds the 1 MiB chunk: three chunks, accumulated.
    'three chunks of one image': geometry({
      batch: 3,
      inHeight: 40,
      inChannels: 8,
      filterHeight: 5,
      padTop: 2,
      padLeft: 2,
    }),
  };

  for (const [name, g] of Object.entries(geometries)) {
    it(`conv2d and both gradients match the definition: ${name}`, () => {
      const xSize = g.batch * g.inHeight * g.inWidth * g.inChannels;
      const ySize = g.batch * g.outHeight * g.outWidth * g.outChannels;
      const fSize = g.filterHeight * g.filterWidth * g.inChannels * g.outChannels;
      const x = random(xSize, 8);
      const f = random(fSize, 9);
      const dy = random(ySize, 10);
      const packed = packGeometry(g);
      const y = new Float32Array(ySize).fill(Number.NaN);
      m.conv2d(x, f, y, packed);
      expectClose(y, naiveConv(g, x, f));
      const dx = new Float32Array(xSize).fill(Number.NaN);
      m.conv2dBackpropInput(dy, f, dx, packed);
      expectClose(dx, naiveBackpropInput(g, dy, f));
      const df = new Float32Array(fSize).fill(Number.NaN);
      m.conv2dBackpropFilter(x, dy, df, packed);
      expectClose(df, naiveBackpropFilter(g, x, dy));
    });
  }

  it('biasActivation adds a bias per column and applies ReLU, keeping NaN', () => {
    const y = Float32Array.of(-1, 2, 3, -4, Number.NaN, 0);
    m.biasActivation(y, 3, Float32Array.of(0.5, -3, 1), 1);
    expect([...y]).toEqual([0, 0, 4, 0, Number.NaN, 1]);
    m.biasActivation(y, 3, null, 0);
    expect(y[2]).toBe(4);
  });

  it('tile repeats along every axis like tf.tile, for 4-byte and 1-byte elements', () => {
    const naiveTile = (x: ArrayLike<number>, shape: number[], reps: number[]) => {
      const outShape = shape.map((d, i) => d * reps[i]);
      const size = outShape.reduce((p, d) => p * d, 1);
      return Array.from({ length: size }, (_, flat) => {
        let src = 0;
        let rest = flat;
        let stride = 1;
        for (let d = shape.length - 1; d >= 0; d--) {
          src += ((rest % outShape[d]) % shape[d]) * stride;
          rest = Math.floor(rest / outShape[d]);
          stride *= shape[d];
        }
        return x[src];
      });
    };
    const cases: [number[], number[]][] = [
      [
        [1, 1, 1, 5],
        [3, 4, 2, 1],
      ], // BatchNorm's gradient
      [
        [2, 3],
        [2, 2],
      ],
      [
        [4, 1, 3],
        [1, 5, 2],
      ],
      [[7], [3]],
    ];
    for (const [shape, reps] of cases) {
      const x = random(
        shape.reduce((p, d) => p * d, 1),
        11,
      );
      const out = new Float32Array(shape.reduce((p, d, i) => p * d * reps[i], 1));
      m.tile(x, out, Int32Array.from(shape), Int32Array.from(reps));
      expect([...out]).toEqual(naiveTile(x, shape, reps));
    }
    const bytes = Uint8Array.of(1, 0, 1);
    const outBytes = new Uint8Array(6);
    m.tile(bytes, outBytes, Int32Array.of(3), Int32Array.of(2));
    expect([...outBytes]).toEqual([1, 0, 1, 1, 0, 1]);
    expect(() => m.tile(bytes, new Uint8Array(5), Int32Array.of(3), Int32Array.of(2))).toThrow(/out has 5 elements/);
    expect(() => m.tile(bytes, new Float32Array(6) as never, Int32Array.of(3), Int32Array.of(2))).toThrow(/same type/);
  });

  it('reduceSum sums the middle axis of [outer, reduced, inner] in double precision, then scales', () => {
    for (const [outer, reduced, inner] of [
      [1, 4096, 12], // BatchNorm: Σ over N·H·W of an NHWC tensor
      [3, 50, 1], // trailing axis
      [5, 7, 9],
    ]) {
      const x = random(outer * reduced * inner, 12);
      const out = new Float32Array(outer * inner);
      m.reduceSum(x, out, outer, reduced, inner, 0.5);
      const expected = new Float64Array(outer * inner);
      for (let o = 0; o < outer; o++)
        for (let r = 0; r < reduced; r++)
          for (let i = 0; i < inner; i++) expected[o * inner + i] += 0.5 * x[(o * reduced + r) * inner + i];
      expectClose(out, expected, 1e-6);
    }
    expect(() => m.reduceSum(new Float32Array(10), new Float32Array(2), 1, 5, 2, 1)).not.toThrow();
    expect(() => m.reduceSum(new Float32Array(10), new Float32Array(3), 1, 5, 2, 1)).toThrow(/out has 3 elements/);
    expect(() => m.reduceSum(new Float32Array(9), new Float32Array(2), 1, 5, 2, 1)).toThrow(/x has 9 elements/);
  });

  it('batchNorm normalizes each channel of channels-last data, with and without scale and offset', () => {
    const [rows, c] = [10, 3];
    const x = random(rows * c, 13);
    const mean = Float32Array.of(0.1, -0.2, 0.3);
    const variance = Float32Array.of(0.5, 1, 2);
    const offset = Float32Array.of(1, 2, 3);
    const scale = Float32Array.of(2, 0.5, -1);
    for (const [o, s] of [
      [offset, scale],
      [null, null],
    ]) {
      const out = new Float32Array(rows * c);
      m.batchNorm(x, out, c, mean, variance, o, s, 1e-3);
      const expected = Array.from(x, (v, i) => {
        const k = i % c;
        return ((v - mean[k]) * (s ? s[k] : 1)) / Math.sqrt(variance[k] + 1e-3) + (o ? o[k] : 0);
      });
      expectClose(out, expected, 1e-6);
    }
    expect(() => m.batchNorm(x, new Float32Array(30), 3, mean, variance, offset, Float32Array.of(1), 1e-3)).toThrow(
      /each have channels = 3 elements/,
    );
  });

  it('channelBinary applies +, −, ×, ÷ between every row and a per-channel vector, either way round', () => {
    const full = random(4 * 3, 14);
    const vec = Float32Array.of(0.5, -2, 4);
    const ops = [
      (p: number, q: number) => p + q,
      (p: number, q: number) => p - q,
      (p: number, q: number) => p * q,
      (p: number, q: number) => p / q,
    ];
    for (const [op, f] of ops.entries())
      for (const vecFirst of [false, true]) {
        const out = new Float32Array(12);
        m.channelBinary(full, vec, out, op as 0 | 1 | 2 | 3, vecFirst);
        const expected = Array.from(full, (v, i) => Math.fround(vecFirst ? f(vec[i % 3], v) : f(v, vec[i % 3])));
        expect([...out]).toEqual(expected);
      }
    expect(() => m.channelBinary(full, Float32Array.of(1, 2, 3, 4, 5), new Float32Array(12), 0, false)).toThrow(
      /multiple of vec/,
    );
    expect(() => m.channelBinary(full, vec, new Float32Array(12), 4 as 0, false)).toThrow(/op must be/);
  });

  it('refuses arrays too short for the matrices it would touch, and writes nothing then', () => {
    const C = new Float32Array(4).fill(9);
    expect(() => m.sgemm(false, false, 3, 2, 2, 1, new Float32Array(4), 2, new Float32Array(4), 2, 0, C, 2)).toThrow(
      /A needs 6 elements but its array has 4/,
    );
    expect(() => m.sgemm(false, false, 2, 2, 2, 1, new Float32Array(4), 1, new Float32Array(4), 2, 0, C, 2)).toThrow(
      /leading dimension of A is 1/,
    );
    expect(() =>
      m.sgemmStridedBatched(
        false,
        false,
        2,
        2,
        2,
        1,
        new Float32Array(8),
        2,
        4,
        new Float32Array(4),
        2,
        0,
        0,
        C,
        2,
        4,
        2,
      ),
    ).toThrow(/C needs 8 elements/);
    expect([...C]).toEqual([9, 9, 9, 9]);
  });

  it('refuses wrong argument types and geometries that do not match the arrays', () => {
    const bad = [1, 2, 3, 4] as unknown as Float32Array;
    expect(() => m.sgemm(false, false, 2, 2, 2, 1, bad, 2, bad, 2, 0, new Float32Array(4), 2)).toThrow(TypeError);
    expect(() => m.sgemm(false, false, 2.5, 2, 2, 1, bad, 2, bad, 2, 0, new Float32Array(4), 2)).toThrow(
      /M must be an integer/,
    );
    const g = geometries['k3 s1 same'];
    const y = new Float32Array(g.batch * g.outHeight * g.outWidth * g.outChannels);
    expect(() => m.conv2d(new Float32Array(5), new Float32Array(3 * 3 * 3 * 4), y, packGeometry(g))).toThrow(
      /x has 5 elements, the geometry needs 216/,
    );
    expect(() =>
      m.conv2d(new Float32Array(216), new Float32Array(108), y, packGeometry({ ...g, strideHeight: 0 })),
    ).toThrow(/strides and dilations must be at least 1/);
    expect(() => m.conv2d(new Float32Array(216), new Float32Array(108), y, Int32Array.of(1, 2))).toThrow(
      /Int32Array of length 15/,
    );
  });
  it('sgemv: one row times a matrix, either orientation, with alpha and beta', () => {
    const A = random(5 * 7, 11);
    for (const trans of [false, true]) {
      const x = random(trans ? 5 : 7, 12);
      const y = random(trans ? 7 : 5, 13);
      const expected = naiveGemm(
        false,
        !trans,
        1,
        trans ? 7 : 5,
        trans ? 5 : 7,
        0.5,
        x,
        x.length,
        A,
        7,
        2,
        Float32Array.from(y),
        y.length,
      );
      m.sgemv(trans, 5, 7, 0.5, A, 7, x, 2, y);
      expectClose(y, expected);
    }
    expect(() => m.sgemv(false, 5, 7, 1, A, 7, new Float32Array(6), 0, new Float32Array(5))).toThrow(
      /x has 6 elements, needs 7/,
    );
  });

  it('sgemmPacked multiplies by bfloat16 and float16 weights as by their float32 values, both orientations, over several blocks', () => {
    // 16-bit patterns of ordinary values, plus a subnormal half and a negative zero.
    const toBf16 = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0] >>> 16;
    const halfOf = (v: number) => {
      // exact for the values used: multiples of 2^-10 in [-2, 2)
      const sign = v < 0 ? 0x8000 : 0;
      const a = Math.abs(v);
      if (a === 0) return sign;
      const e = Math.floor(Math.log2(a));
      return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
    };
    const fromBf16 = (h: number) => new Float32Array(Uint32Array.of(h << 16).buffer)[0];
    const fromHalf = (h: number) => {
      const s = h & 0x8000 ? -1 : 1;
      const e = (h >> 10) & 0x1f;
      const f = h & 0x3ff;
      return e === 0 ? s * 2 ** -14 * (f / 1024) : s * 2 ** (e - 15) * (1 + f / 1024);
    };
    for (const kind of [0, 1] as const) {
      for (const [M, N, K] of [
        [1, 22_000, 3], // M = 1 goes through sgemv; 22k rows of 3 span two blocks of 64k elements
        [3, 5, 20_000],
        [9, 300, 250], // sgemm over 2+ blocks
      ]) {
        for (const transW of [true, false]) {
          const rows = transW ? N : K;
          const cols = transW ? K : N;
          const raw = random(rows * cols, M + N + K);
          const W = new Uint16Array(rows * cols);
          const Wf = new Float32Array(rows * cols);
          for (let i = 0; i < W.length; i++) {
            const v = Math.round(raw[i] * 1024) / 1024;
            W[i] = kind === 0 ? toBf16(v) : halfOf(v);
            Wf[i] = kind === 0 ? fromBf16(W[i]) : fromHalf(W[i]);
          }
          if (kind === 1) {
            W[0] = 0x0001; // smallest subnormal half
            Wf[0] = 2 ** -24;
            W[1] = 0x8000;
            Wf[1] = -0;
          }
          const A = random(M * K, 7);
          const C = new Float32Array(M * N).fill(Number.NaN); // overwritten, never read
          m.sgemmPacked(transW, M, N, K, A, K, W, kind, C, N);
          expectClose(C, naiveGemm(false, transW, M, N, K, 1, A, K, Wf, cols, 0, new Float32Array(M * N), N), 1e-5);
        }
      }
      const W = Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7c00);
      const out = new Float32Array(4);
      m.dequantize16(W, out, 1);
      expect([...out]).toEqual([1, -2, 2 ** -24, Number.POSITIVE_INFINITY]);
      m.dequantize16(Uint16Array.of(0x3f80, 0xc040), out.subarray(0, 2), 0);
      expect([...out.subarray(0, 2)]).toEqual([1, -3]);
    }
    expect(() =>
      m.sgemmPacked(true, 2, 3, 4, new Float32Array(8), 4, new Uint16Array(11), 0, new Float32Array(6), 3),
    ).toThrow(/W needs 12 elements but its array has 11/);
    expect(() => m.dequantize16(new Uint16Array(2), new Float32Array(2), 2 as 0)).toThrow(/kind must be 0/);
  });
});
