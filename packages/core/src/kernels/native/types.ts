import type * as tf from '@tensorflow/tfjs';

/** Types and helpers shared by the native kernels (`@introdl/native` on the wasm backend's heap). */

export type KernelFunc = tf.KernelConfig['kernelFunc'];
export type TensorInfo = tf.TensorInfo;
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** A kernel that handles the cases it can and passes the others to the kernel registered before it. */
export type KernelWrap = (previous: KernelFunc) => KernelFunc;

/** The part of `@introdl/native` used here (the package is optional, so it is not imported for types). */
export interface NativeAddon {
  sgemm(
    ...args: [
      boolean,
      boolean,
      number,
      number,
      number,
      number,
      Float32Array,
      number,
      Float32Array,
      number,
      number,
      Float32Array,
      number,
    ]
  ): void;
  sgemmStridedBatched(
    ...args: [
      boolean,
      boolean,
      number,
      number,
      number,
      number,
      Float32Array,
      number,
      number,
      Float32Array,
      number,
      number,
      number,
      Float32Array,
      number,
      number,
      number,
    ]
  ): void;
  conv2d(x: Float32Array, filter: Float32Array, y: Float32Array, geometry: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dfilter: Float32Array, geometry: Int32Array): void;
  biasActivation(y: Float32Array, cols: number, bias: Float32Array | null, activation: 0 | 1): void;
  tile(x: HeapArray, out: HeapArray, xShape: Int32Array, reps: Int32Array): void;
  reduceSum(x: Float32Array, out: Float32Array, outer: number, reduced: number, inner: number, scale: number): void;
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
  channelBinary(full: Float32Array, vec: Float32Array, out: Float32Array, op: 0 | 1 | 2 | 3, vecFirst: boolean): void;
  /** y = alpha·op(A)·x + beta·y (row-major A, M×N); absent in addons built before it. */
  sgemv?(
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
  /** C = A·op(W) with W in 16-bit floats (kind 0 bfloat16, 1 half); absent in addons built before it. */
  sgemmPacked?(
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
  /** output = float32 of 16-bit floats (kind 0 bfloat16, 1 half). */
  dequantize16?(input: Uint16Array, output: Float32Array, kind: 0 | 1): void;
  info(): { config: string; core: string; threads: number };
}

/** The members of tfjs' wasm backend used here: allocate on its heap, view a tensor's bytes there. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): HeapArray;
}

/** A float32 tensor's data on the wasm heap, as a view (no copy). */
export function heap(backend: unknown, t: TensorInfo): Float32Array {
  return (backend as WasmBackend).typedArrayFromHeap(t) as Float32Array;
}

/** Allocates an output tensor on the wasm heap. Take heap views after this: it may grow the memory. */
export function output(backend: unknown, shape: number[], dtype: tf.DataType = 'float32'): TensorInfo {
  return (backend as WasmBackend).makeOutput(shape, dtype);
}

export function allFloat32(...ts: (TensorInfo | undefined | null)[]): boolean {
  return ts.every((t) => !t || t.dtype === 'float32');
}

/** Names a kernel function (`nativeSum`, …) so that tests and stack traces can tell which one ran. */
export function named(kernel: KernelFunc, name: string): KernelFunc {
  return Object.defineProperty(kernel, 'name', { value: name });
}
