import * as tf from '@tensorflow/tfjs';
import { callKernel, disposeAll, type KernelFunc, type WasmBackend } from './backend.js';
import { type ConvGeometry, col2im } from './im2col.js';

/**
 * `Conv2DBackpropInput` (the input gradient of a convolution, and the forward pass of a transposed
 * convolution) for the wasm backend, whose own kernel is a naive loop about 10× slower than its
 * forward convolution: dx = col2im(dy · Wᵀ), one matmul (whatever `BatchMatMul` is registered:
 * XNNPACK, or the native one when loaded) and a linear-time scatter over the wasm heap; 3–7× faster
 * at Lab 2's sizes. NCHW goes to the stock kernel.
 *
 * The filter gradient stays a dilated convolution (conv2d-backprop-filter.ts): as patches(x)ᵀ · dy
 * it was slower, the matmul having only Cout rows.
 */

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function geometry(xShape: number[], filterShape: number[], attrs: ConvAttrs): ConvGeometry {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** Wraps wasm's `Conv2DBackpropInput` with the patch-matrix version (NHWC; NCHW goes to `original`). */
export function fastConv2dBackpropInput(original: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs, backend } = args;
    const dy = inputs.dy as tf.TensorInfo;
    const filter = inputs.filter as tf.TensorInfo;
    const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
    if (a.dataFormat === 'NCHW') return original(args);
    const g = geometry(a.inputShape, filter.shape, a);
    const wasm = backend as unknown as WasmBackend;
    const rows = g.batch * g.outHeight * g.outWidth;
    const patch = g.filterHeight * g.filterWidth * g.inChannels;
    const dy2d = { ...dy, shape: [rows, dy.shape[3]] };
    const w2d = { ...filter, shape: [patch, filter.shape[3]] };
    // Rows of patch gradients [N·OH·OW, fh·fw·Cin] = dy · Wᵀ.
    const dcols = callKernel('BatchMatMul', { a: dy2d, b: w2d }, { transposeA: false, transposeB: true }, backend);
    const dx = wasm.makeOutput([...a.inputShape], 'float32');
    col2im(wasm.typedArrayFromHeap(dcols) as Float32Array, g, wasm.typedArrayFromHeap(dx) as Float32Array);
    disposeAll(backend, [dcols]);
    return dx;
  };
}
