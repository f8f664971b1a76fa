/**
 * @introdl/native: OpenBLAS matrix products and im2col convolutions for Node, as an N-API addon
 * built at install time. Every function works in place on Float32Arrays, including views on a
 * WebAssembly.Memory, so tfjs' wasm backend can hand its heap over without copies.
 *
 * The addon is optional: when it could not be built (no compiler, no OpenBLAS), {@link loadNative}
 * throws a {@link NativeUnavailableError} saying why, and callers fall back to other code.
 * @packageDocumentation
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What OpenBLAS reports about itself. */
export interface BlasInfo {
  /** e.g. `OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64`. */
  config: string;
  /** The CPU kernel set it picked, e.g. `Zen` or `Haswell`. */
  core: string;
  threads: number;
  /** 0 sequential, 1 pthreads, 2 OpenMP. */
  parallel: number;
}

/**
 * The addon's functions. Matrices are row-major; leading dimensions and strides count elements.
 * Each call checks that every matrix it touches lies inside its array (RangeError otherwise).
 */
export interface NativeAddon {
  /** C = alpha·op(A)·op(B) + beta·C with op(A) M×K, op(B) K×N, C M×N. */
  sgemm(
    transA: boolean,
    transB: boolean,
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
  ): void;
  /** `batch` products; product i reads A + i·strideA and B + i·strideB (stride 0 broadcasts) and writes C + i·strideC. */
  sgemmStridedBatched(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    strideA: number,
    B: Float32Array,
    ldb: number,
    strideB: number,
    beta: number,
    C: Float32Array,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
  /** y [n,oh,ow,oc] = conv(x [n,h,w,c], filter [kh,kw,c,oc]); geometry from {@link packGeometry}. */
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: Int32Array): void;
  /** dx [n,h,w,c] from dy [n,oh,ow,oc] and filter. */
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  /** dfilter [kh,kw,c,oc] from x and dy. */
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, geometry: Int32Array): void;
  /** Each row of y (rows of `cols`) gets `bias` added, then ReLU when `activation` is 1 (0 is linear). */
  biasActivation(y: Float32Array, cols: number, bias: Float32Array | null, activation: 0 | 1): void;
  /** out = x (of shape xShape, rank ≤ 8) repeated reps[i] times along axis i; x and out of one typed-array type. */
  tile<T extends Float32Array | Int32Array | Uint8Array>(x: T, out: T, xShape: Int32Array, reps: Int32Array): void;
  /** x seen as [outer, reduced, inner]: out[o, i] = scale · Σ_r x[o, r, i], accumulated in double. */
  reduceSum(x: Float32Array, out: Float32Array, outer: number, reduced: number, inner: number, scale: number): void;
  /** Channels-last batch normalization: out = (x − mean)·scale/√(variance + epsilon) + offset, per channel. */
  batchNorm(
    x: Float32Array,
    out: Float32Array,
    channels: number,
    mean: Float32Array,
    variance: Float32Array,
    offset: Float32Array | null,
    scale: Float32Array | null,
    epsilon: number,
  ): void;
  /** out = full ∘ vec (or vec ∘ full when vecFirst), vec repeated along the last axis; op 0 add, 1 sub, 2 mul, 3 div. */
  channelBinary(full: Float32Array, vec: Float32Array, out: Float32Array, op: 0 | 1 | 2 | 3, vecFirst: boolean): void;
  /** y = alpha·op(A)·x + beta·y, A row-major M×N (op = transpose when `trans`): one row times a matrix. */
  sgemv(
    trans: boolean,
    M: number,
    N: number,
    alpha: number,
    A: Float32Array,
    lda: number,
    x: Float32Array,
    beta: number,
    y: Float32Array,
  ): void;
  /**
   * C[M,N] (leading dimension ldc) = A[M,K] (lda) · op(W) with W stored as 16-bit floats (kind 0
   * bfloat16, 1 IEEE half): [N,K] with op = transpose when transW (a Linear layer's x·Wᵀ), else [K,N].
   * W is converted to float32 a block of rows at a time (256 kB), never as a whole.
   */
  sgemmPacked(
    transW: boolean,
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    lda: number,
    W: Uint16Array,
    kind: 0 | 1,
    C: Float32Array,
    ldc: number,
  ): void;
  /** output[i] = input[i] as float32 (kind 0 bfloat16, 1 IEEE half); same lengths. */
  dequantize16(input: Uint16Array, output: Float32Array, kind: 0 | 1): void;
  info(): BlasInfo;
  /** Sets OpenBLAS' thread count for this process. */
  setThreads(threads: number): void;
}

/** The shape of an NHWC convolution; padding is what lies before the first row and column. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

/** Packs a geometry in the order the addon reads it. */
export function packGeometry(g: ConvGeometry): Int32Array {
  return Int32Array.of(
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.outChannels,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.dilationHeight,
    g.dilationWidth,
    g.padTop,
    g.padLeft,
  );
}

/** The addon is not available here; `message` says why and how to fix it. */
export class NativeUnavailableError extends Error {
  override name = 'NativeUnavailableError';
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Where node-gyp puts the addon. */
export const ADDON_PATH = path.join(packageRoot, 'build', 'Release', 'introdl_native.node');
/** Where the install script writes why the build failed. */
export const INSTALL_ERROR_PATH = path.join(packageRoot, 'install-error.txt');

let cached: NativeAddon | NativeUnavailableError | undefined;

function load(): NativeAddon | NativeUnavailableError {
  if (!existsSync(ADDON_PATH)) {
    const why = existsSync(INSTALL_ERROR_PATH)
      ? readFileSync(INSTALL_ERROR_PATH, 'utf8').trim()
      : 'the addon was never built (npm skipped the install script?)';
    return new NativeUnavailableError(`${why}; rebuild with \`npm rebuild @introdl/native\``);
  }
  try {
    return createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (err) {
    // Typically libopenblas.so.0 was removed after the build.
    const first = (err as Error).message.split('\n')[0];
    return new NativeUnavailableError(`the addon is built but does not load (${first})`);
  }
}

/** Loads the addon once. Throws {@link NativeUnavailableError} (with the reason) when it is not built or does not load. */
export function loadNative(): NativeAddon {
  cached ??= load();
  if (cached instanceof NativeUnavailableError) throw cached;
  return cached;
}

/** Whether the addon loads, with OpenBLAS' description or the reason it does not. */
export function nativeStatus(): { available: true; blas: BlasInfo } | { available: false; reason: string } {
  try {
    return { available: true, blas: loadNative().info() };
  } catch (err) {
    return { available: false, reason: (err as Error).message };
  }
}
