import * as tf from '@tensorflow/tfjs';
import { activationCode, isRowBias } from './matmul.js';
import type { KernelWrap, NativeAddon, TensorInfo } from './types.js';
import { allFloat32, heap, output } from './types.js';

/**
 * Conv2D, FusedConv2D (tf.layers.conv2d at inference), Conv2DBackpropInput and Conv2DBackpropFilter
 * as im2col + OpenBLAS sgemm on the wasm heap: NHWC, any stride, padding and dilation. NCHW and
 * other dtypes go to the previous kernel.
 */

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** The convolution kernels, by kernel name. */
export function convKernels(addon: NativeAddon): Record<string, KernelWrap> {
  return {
    Conv2D: conv2D(addon),
    FusedConv2D: fusedConv2D(addon),
    Conv2DBackpropInput: conv2DBackpropInput(addon),
    Conv2DBackpropFilter: conv2DBackpropFilter(addon),
  };
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** The addon's geometry for a tfjs convolution, or null when we leave it to the previous kernel. */
function geometry(info: Conv2DInfo): Int32Array | null {
  const g = Int32Array.of(
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.outChannels,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  const sizesOk = g.slice(0, 13).every((v) => v >= 1);
  return sizesOk && info.padInfo.top >= 0 && info.padInfo.left >= 0 ? g : null;
}

/** Conv2DInfo for NHWC float32 rank-4 input, or null. */
function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
  dilations: ConvAttrs['dilations'],
): Conv2DInfo | null {
  if (attrs.dataFormat === 'NCHW' || xShape.length !== 4 || filterShape.length !== 4) return null;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function conv2D(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeConv2D(args) {
      const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs;
      const info = allFloat32(x, filter) ? convInfo(x.shape, filter.shape, attrs, attrs.dilations) : null;
      const g = info && geometry(info);
      if (!info || !g) return previous(args);
      const y = output(args.backend, info.outShape);
      addon.conv2d(heap(args.backend, x), heap(args.backend, filter), heap(args.backend, y), g);
      return y;
    };
}

function fusedConv2D(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeFusedConv2D(args) {
      const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const attrs = args.attrs as unknown as ConvAttrs & { activation?: string };
      const act = activationCode(attrs.activation);
      const info =
        x && filter && allFloat32(x, filter) && act !== null && !preluActivationWeights
          ? convInfo(x.shape, filter.shape, attrs, attrs.dilations)
          : null;
      const g = info && geometry(info);
      if (!x || !filter || !info || !g || act === null || !isRowBias(bias, info.outChannels)) return previous(args);
      const y = output(args.backend, info.outShape);
      const Y = heap(args.backend, y);
      addon.conv2d(heap(args.backend, x), heap(args.backend, filter), Y, g);
      if (bias || act) addon.biasActivation(Y, info.outChannels, bias ? heap(args.backend, bias) : null, act);
      return y;
    };
}

function conv2DBackpropInput(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeConv2DBackpropInput(args) {
      const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
      const info = allFloat32(dy, filter) ? convInfo(attrs.inputShape, filter.shape, attrs, 1) : null;
      const g = info && geometry(info);
      if (!info || !g || !sameShape(dy.shape, info.outShape)) return previous(args);
      const dx = output(args.backend, [...attrs.inputShape]);
      addon.conv2dBackpropInput(heap(args.backend, dy), heap(args.backend, filter), heap(args.backend, dx), g);
      return dx;
    };
}

function conv2DBackpropFilter(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeConv2DBackpropFilter(args) {
      const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
      const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
      const info = allFloat32(x, dy) ? convInfo(x.shape, attrs.filterShape, attrs, 1) : null;
      const g = info && geometry(info);
      if (!info || !g || !sameShape(dy.shape, info.outShape)) return previous(args);
      const dw = output(args.backend, [...attrs.filterShape]);
      addon.conv2dBackpropFilter(heap(args.backend, x), heap(args.backend, dy), heap(args.backend, dw), g);
      return dw;
    };
}
