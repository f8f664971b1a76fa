import * as tf from '@tensorflow/tfjs';
import { callKernel, disposeAll, type KernelFunc } from './backend.js';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * `Conv2DBackpropFilter` (the filter gradient of a convolution) for the wasm backend, which lacks it.
 *
 * dW[i, j, ci, co] = Σ_{n, p, q} x[n, p·s + i − top, q·s + j − left, ci] · dy[n, p, q, co], which is
 * itself a convolution: the input is x with channels and batch swapped ([Cin, H, W, N]), the filter
 * is dy as [OH, OW, N, Cout], the stride becomes a dilation. One call to the wasm (XNNPACK)
 * convolution does all the work; the transposes around it are cheap.
 */
export const conv2dBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only (as does its Conv2D)');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const [, outH, outW] = dy.shape;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Rows (columns) of the padded input that the filter ever touches: exactly enough that the
  // dilated convolution's output is fh × fw. A negative bottom pad means rows never used.
  let bottom = (outH - 1) * sh + fh - top - x.shape[1];
  let right = (outW - 1) * sw + fw - left - x.shape[2];
  const temps: tf.TensorInfo[] = [];
  let xT = callKernel('Transpose', { x }, { perm: [3, 1, 2, 0] }, backend);
  temps.push(xT);
  if (bottom < 0 || right < 0) {
    const [c, h, w, n] = xT.shape;
    xT = callKernel(
      'Slice',
      { x: xT },
      { begin: [0, 0, 0, 0], size: [c, h + Math.min(bottom, 0), w + Math.min(right, 0), n] },
      backend,
    );
    temps.push(xT);
    bottom = Math.max(bottom, 0);
    right = Math.max(right, 0);
  }
  const dyT = callKernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, backend);
  temps.push(dyT);
  const conv = callKernel(
    'Conv2D',
    { x: xT, filter: dyT },
    {
      strides: [1, 1],
      dilations: [sh, sw],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    } as unknown as tf.NamedAttrMap,
    backend,
  );
  temps.push(conv);
  const out = callKernel('Transpose', { x: conv }, { perm: [1, 2, 0, 3] }, backend);
  disposeAll(backend, temps);
  return out;
};
