import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, WasmBackend } from './backend.js';

/**
 * Copies the block `begin … begin + size` of a row-major array of shape `shape` into `out`. Trailing
 * axes taken whole are merged first, so the inner copies are as long as possible.
 */
export function copyBlock(
  src: Float32Array | Int32Array | Uint8Array,
  shape: number[],
  begin: number[],
  size: number[],
  out: Float32Array | Int32Array | Uint8Array,
): void {
  let rank = shape.length;
  // Merge trailing axes taken whole: the run copied at once grows to their product.
  let run = 1;
  while (rank > 1 && begin[rank - 1] === 0 && size[rank - 1] === shape[rank - 1]) {
    run *= shape[rank - 1];
    rank--;
  }
  const inner = size[rank - 1] * run;
  const strides = new Array<number>(rank);
  strides[rank - 1] = run;
  for (let a = rank - 2; a >= 0; a--) strides[a] = strides[a + 1] * shape[a + 1];
  const runs = size.slice(0, rank - 1).reduce((p, d) => p * d, 1);
  const index = new Array<number>(rank - 1).fill(0);
  let dst = 0;
  for (let r = 0; r < runs; r++) {
    let offset = begin[rank - 1] * run;
    for (let a = 0; a < rank - 1; a++) offset += (begin[a] + index[a]) * strides[a];
    out.set(src.subarray(offset, offset + inner), dst);
    dst += inner;
    for (let a = rank - 2; a >= 0; a--) {
      if (++index[a] < size[a]) break;
      index[a] = 0;
    }
  }
}

/** The block `begin … begin + size` of x as a new wasm tensor, read from the heap in place. */
function sliceOnHeap(x: tf.TensorInfo, begin: number[], size: number[], backend: unknown): tf.TensorInfo {
  const wasm = backend as WasmBackend;
  const out = wasm.makeOutput(size, x.dtype);
  if (size.some((d) => d === 0)) return out;
  // Views after the allocation: growing the heap detaches earlier views.
  copyBlock(wasm.typedArrayFromHeap(x), x.shape, begin, size, wasm.typedArrayFromHeap(out));
  return out;
}

/**
 * Wraps wasm's `Slice`, which copies its whole input out of the wasm heap (`readSync`) on every call:
 * slicing one time step of a [8, 100, 4096] tensor copied 13 MB. This one reads the heap in place
 * and copies only the block. Strings go to the original kernel.
 */
export function fastSlice(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
    return sliceOnHeap(x, b, s, args.backend);
  };
}

/** Wraps wasm's `SplitV` (tf.split), which calls the stock Slice once per piece. */
export function fastSplitV(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') return original(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, a);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[a] = s;
      const piece = sliceOnHeap(x, [...begin], size, args.backend);
      begin[a] += s;
      return piece;
    });
  };
}

/** Wraps wasm's `Unpack` (tf.unstack), which calls the stock Slice once per output: O(n²) copying. */
export function fastUnpack(original: KernelFunc): KernelFunc {
  return (args) => {
    const value = args.inputs.value as tf.TensorInfo;
    if (value.dtype === 'string') return original(args);
    const rank = value.shape.length;
    let axis = (args.attrs as unknown as { axis: number }).axis;
    if (axis < 0) axis += rank;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const size = [...value.shape];
    size[axis] = 1;
    return Array.from({ length: value.shape[axis] }, (_, i) => {
      const begin = new Array<number>(rank).fill(0);
      begin[axis] = i;
      const piece = sliceOnHeap(value, begin, size, args.backend);
      return { ...piece, shape: outShape };
    });
  };
}
