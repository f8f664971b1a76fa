import type * as tf from '@tensorflow/tfjs';
import type { KernelFunc, WasmBackend } from './backend.js';

/**
 * `UnsortedSegmentSum` for the wasm backend, which lacks it; it is the gradient of `gather`, so the
 * Embedding layer cannot train on wasm without it. out[ids[i], …] += x[i, …]: one pass over x in
 * JavaScript, reading and writing the wasm heap in place. That is O(size of x), where composing
 * oneHot(ids)ᵀ·x would cost O(size of x × numSegments) and a one-hot matrix as large as ids × segments.
 * Ids outside [0, numSegments) are dropped, as TensorFlow does.
 */
export const unsortedSegmentSum: KernelFunc = ({ inputs, attrs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const segmentIds = inputs.segmentIds as tf.TensorInfo;
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const wasm = backend as unknown as WasmBackend;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype);
  // Views are taken after the allocation: growing the heap detaches earlier views.
  const xs = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  const o = wasm.typedArrayFromHeap(out);
  o.fill(0);
  for (let r = 0; r < rows; r++) {
    const s = ids[r];
    if (s < 0 || s >= numSegments) continue;
    const src = r * inner;
    const dst = s * inner;
    for (let k = 0; k < inner; k++) o[dst + k] += xs[src + k];
  }
  return out;
};
