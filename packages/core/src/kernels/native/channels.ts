import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, KernelWrap, NativeAddon, TensorInfo, WasmBackend } from './types.js';
import { heap, named } from './types.js';

/**
 * The per-channel work around convolutions in an NHWC network (BatchNorm, biases), where the wasm
 * kernels are slow for reasons of layout rather than arithmetic: Tile (BatchNorm's gradient),
 * Sum and Mean over [N, H, W], FusedBatchNorm, and +, −, ×, ÷ with a per-channel vector.
 */

/** The per-channel kernels, by kernel name. */
export function channelKernels(addon: NativeAddon): Record<string, KernelWrap> {
  return {
    // BatchNorm's gradient tiles its scale to the activations' size; wasm's Tile computes an index per element.
    Tile: tile(addon),
    // wasm transposes the reduced axes to the end before summing.
    Sum: reduction(addon, 'Sum'),
    Mean: reduction(addon, 'Mean'),
    FusedBatchNorm: fusedBatchNorm(addon),
    // wasm's broadcasting makes arithmetic with a per-channel vector 3× slower than same-shape arithmetic.
    Add: channelBinary(addon, 'Add', 0),
    Sub: channelBinary(addon, 'Sub', 1),
    Multiply: channelBinary(addon, 'Multiply', 2),
    RealDiv: channelBinary(addon, 'RealDiv', 3),
  };
}

// ---------------------------------------------------------------------------------------------
// Tile

function tile(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeTile(args) {
      const x = args.inputs.x as TensorInfo;
      const reps = (args.attrs as unknown as { reps: number[] }).reps;
      const outShape = x.shape.map((d, i) => d * reps[i]);
      const handled =
        (x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool') &&
        reps.length === x.shape.length &&
        x.shape.length <= 8 &&
        outShape.every((d) => d > 0);
      if (!handled) return previous(args);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(outShape, x.dtype);
      addon.tile(
        backend.typedArrayFromHeap(x),
        backend.typedArrayFromHeap(out),
        Int32Array.from(x.shape),
        Int32Array.from(reps),
      );
      return out;
    };
}

// ---------------------------------------------------------------------------------------------
// Sum and Mean over one contiguous block of axes (float32); other cases go to the previous kernel

function reduction(addon: NativeAddon, kind: 'Sum' | 'Mean'): KernelWrap {
  return (previous) => {
    const kernel: KernelFunc = (args) => {
      const x = args.inputs.x as TensorInfo;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const rank = x.shape.length;
      const axes = x.dtype === 'float32' && rank > 0 ? tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b) : [];
      const contiguous = axes.length > 0 && axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
      const size = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
      const [first, last] = [axes[0], axes[axes.length - 1]];
      const reduced = contiguous ? size(x.shape.slice(first, last + 1)) : 0;
      if (!contiguous || reduced === 0 || size(x.shape) === 0) return previous(args);
      const outShape = keepDims
        ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d))
        : x.shape.filter((_, i) => i < first || i > last);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput(outShape, 'float32');
      const scale = kind === 'Mean' ? 1 / reduced : 1;
      addon.reduceSum(
        heap(backend, x),
        heap(backend, out),
        size(x.shape.slice(0, first)),
        reduced,
        size(x.shape.slice(last + 1)),
        scale,
      );
      return out;
    };
    return named(kernel, `native${kind}`);
  };
}

// ---------------------------------------------------------------------------------------------
// FusedBatchNorm with per-channel (last axis) parameters

function fusedBatchNorm(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeFusedBatchNorm(args) {
      const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
      const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
      const channels = x?.shape[x.shape.length - 1] ?? 0;
      const perChannel = (t: TensorInfo | undefined) =>
        !t || (t.dtype === 'float32' && tf.util.sizeFromShape(t.shape) === channels);
      const handled =
        x &&
        mean &&
        variance &&
        x.dtype === 'float32' &&
        channels > 0 &&
        [mean, variance, offset, scale].every(perChannel);
      if (!handled || tf.util.sizeFromShape(x.shape) === 0) return previous(args);
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput([...x.shape], 'float32');
      const view = (t: TensorInfo | undefined) => (t ? heap(backend, t) : null);
      addon.batchNorm(
        heap(backend, x),
        heap(backend, out),
        channels,
        heap(backend, mean),
        heap(backend, variance),
        view(offset),
        view(scale),
        varianceEpsilon,
      );
      return out;
    };
}

// ---------------------------------------------------------------------------------------------
// Arithmetic between a tensor and a vector along its last axis; everything else goes to wasm

/** Whether v is a vector along the last axis of `full` (shape [C], [1, C], [1, 1, 1, C], …), C > 1. */
function isChannelVector(v: TensorInfo, full: TensorInfo): boolean {
  const channels = full.shape[full.shape.length - 1];
  return (
    channels > 1 &&
    v.shape.length <= full.shape.length &&
    v.shape[v.shape.length - 1] === channels &&
    tf.util.sizeFromShape(v.shape) === channels &&
    tf.util.sizeFromShape(full.shape) > channels
  );
}

function channelBinary(addon: NativeAddon, kind: string, op: 0 | 1 | 2 | 3): KernelWrap {
  return (previous) => {
    const kernel: KernelFunc = (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return previous(args);
      const vecFirst = isChannelVector(a, b);
      if (!vecFirst && !isChannelVector(b, a)) return previous(args);
      const [full, vec] = vecFirst ? [b, a] : [a, b];
      const backend = args.backend as unknown as WasmBackend;
      const out = backend.makeOutput([...full.shape], 'float32');
      addon.channelBinary(heap(backend, full), heap(backend, vec), heap(backend, out), op, vecFirst);
      return out;
    };
    return named(kernel, `native${kind}`);
  };
}
