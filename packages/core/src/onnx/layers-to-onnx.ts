import type * as tf from '@tensorflow/tfjs';
import { IntrodlError } from '../errors.js';
import { onnxAttr as a, type OnnxGraph } from './graph.js';

/**
 * A tfjs-layers Sequential model (Keras layers: Conv2D, BatchNormalization, Dense, Flatten,
 * pooling, Dropout, Activation) appended to an ONNX graph, for inference. Images stay channels-last
 * at the graph's input, as the model takes them; convolutions run channels-first (ONNX's layout), and
 * Flatten transposes back first so the flattened order, and so the next Dense layer's weights, are
 * the model's own.
 */

type Layout = 'nhwc' | 'nchw' | 'flat';

interface LayerConfig {
  filters?: number;
  kernelSize?: number | number[];
  strides?: number | number[];
  padding?: string;
  dilationRate?: number | number[];
  activation?: string;
  useBias?: boolean;
  poolSize?: number | number[];
  epsilon?: number;
  axis?: number | number[];
  center?: boolean;
  scale?: boolean;
  dataFormat?: string;
  targetShape?: number[];
}

const pair = (v: number | number[] | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v];

/** TF's 'same' padding for one axis: the extra pixel goes at the end (ONNX's SAME_UPPER). */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** A built layer's input shape without the batch axis. */
function layerInputShape(layer: tf.layers.Layer): number[] {
  const input = layer.input as tf.SymbolicTensor | tf.SymbolicTensor[];
  const shape = (Array.isArray(input) ? input[0] : input).shape;
  return shape.slice(1) as number[];
}

function floats(t: tf.Tensor): Float32Array {
  return Float32Array.from(t.dataSync() as Float32Array);
}

/** Kernel [kh, kw, in, out] (tfjs) → [out, in, kh, kw] (ONNX). */
function convKernel(t: tf.Tensor): { data: Float32Array; dims: number[] } {
  const [kh, kw, cin, cout] = t.shape;
  const src = t.dataSync() as Float32Array;
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] = src[((y * kw + x) * cin + i) * cout + o];
  return { data: out, dims: [cout, cin, kh, kw] };
}

function activation(g: OnnxGraph, x: string, name: string | undefined, layout: Layout, where: string): string {
  switch (name ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return g.op('Relu', [x]);
    case 'sigmoid':
      return g.op('Sigmoid', [x]);
    case 'tanh':
      return g.op('Tanh', [x]);
    case 'elu':
      return g.op('Elu', [x]);
    case 'softmax':
      return g.op('Softmax', [x], { axis: a.int(layout === 'nchw' ? 1 : -1) });
    default:
      throw new IntrodlError(`${where}: activation "${name}" has no ONNX export yet`);
  }
}

/**
 * Appends `model`'s layers to `g`, reading `input` (the model's input layout, e.g. [N, 64, 64, 3]).
 * Weight names start with `prefix`. Returns the output value's name.
 * @throws IntrodlError naming the layer when a layer kind or setting has no export.
 */
export function appendLayersModel(g: OnnxGraph, model: tf.LayersModel, input: string, prefix = 'model'): string {
  let x = input;
  let layout: Layout = 'nhwc';
  const toNchw = () => {
    if (layout === 'nhwc') {
      x = g.op('Transpose', [x], { perm: a.ints([0, 3, 1, 2]) });
      layout = 'nchw';
    }
  };
  model.layers.forEach((layer, index) => {
    const kind = layer.getClassName();
    const config = layer.getConfig() as LayerConfig;
    const where = `layer ${index} (${kind} ${layer.name})`;
    const weights = layer.getWeights();
    const name = (w: string) => `${prefix}.layers.${index}.${w}`;
    const inputShape = layerInputShape(layer);
    if (config.dataFormat && config.dataFormat !== 'channelsLast')
      throw new IntrodlError(`${where}: only channels-last layers are exported`);
    switch (kind) {
      case 'InputLayer':
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
        return;
      case 'Conv2D': {
        toNchw();
        const [kh, kw] = pair(config.kernelSize, 1);
        const [sh, sw] = pair(config.strides, 1);
        const [dh, dw] = pair(config.dilationRate, 1);
        const [H, W] = inputShape;
        const [pt, pb] = config.padding === 'same' ? samePads(H, kh, sh, dh) : [0, 0];
        const [pl, pr] = config.padding === 'same' ? samePads(W, kw, sw, dw) : [0, 0];
        const k = convKernel(weights[0]);
        const inputs = [x, g.weight(name('kernel'), k.data, k.dims)];
        if (config.useBias !== false) inputs.push(g.weight(name('bias'), floats(weights[1]), [k.dims[0]]));
        x = g.op('Conv', inputs, {
          kernel_shape: a.ints([kh, kw]),
          strides: a.ints([sh, sw]),
          dilations: a.ints([dh, dw]),
          pads: a.ints([pt, pl, pb, pr]),
        });
        x = activation(g, x, config.activation, layout, where);
        return;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        toNchw();
        const [kh, kw] = pair(config.poolSize, 2);
        const [sh, sw] = pair(config.strides ?? config.poolSize, 2);
        const [H, W] = inputShape;
        const [pt, pb] = config.padding === 'same' ? samePads(H, kh, sh, 1) : [0, 0];
        const [pl, pr] = config.padding === 'same' ? samePads(W, kw, sw, 1) : [0, 0];
        if (kind === 'AveragePooling2D' && pt + pb + pl + pr > 0)
          throw new IntrodlError(`${where}: 'same' average pooling has no exact ONNX export`);
        x = g.op(kind === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x], {
          kernel_shape: a.ints([kh, kw]),
          strides: a.ints([sh, sw]),
          pads: a.ints([pt, pl, pb, pr]),
        });
        return;
      }
      case 'BatchNormalization': {
        const axis = Array.isArray(config.axis) ? config.axis[0] : (config.axis ?? -1);
        if (axis !== -1 && axis !== inputShape.length)
          throw new IntrodlError(`${where}: only batch normalisation over the last axis is exported`);
        const channels = inputShape[inputShape.length - 1];
        let w = 0;
        const gamma = config.scale === false ? new Float32Array(channels).fill(1) : floats(weights[w++]);
        const beta = config.center === false ? new Float32Array(channels) : floats(weights[w++]);
        const mean = floats(weights[w++]);
        const variance = floats(weights[w++]);
        // ONNX normalises axis 1: right for [N, C] and for channels-first images.
        if (inputShape.length === 3) toNchw();
        x = g.op(
          'BatchNormalization',
          [
            x,
            g.weight(name('gamma'), gamma, [channels]),
            g.weight(name('beta'), beta, [channels]),
            g.weight(name('moving_mean'), mean, [channels]),
            g.weight(name('moving_variance'), variance, [channels]),
          ],
          { epsilon: a.float(config.epsilon ?? 1e-3) },
        );
        return;
      }
      case 'Flatten': {
        if (layout === 'nchw') x = g.op('Transpose', [x], { perm: a.ints([0, 2, 3, 1]) });
        x = g.op('Reshape', [x, g.ints([0, -1])]);
        layout = 'flat';
        return;
      }
      case 'Dense': {
        if (inputShape.length !== 1) throw new IntrodlError(`${where}: Dense is exported on flat [N, features] input`);
        const kernel = weights[0];
        x = g.op('MatMul', [x, g.weight(name('kernel'), floats(kernel), kernel.shape)]);
        if (config.useBias !== false)
          x = g.op('Add', [x, g.weight(name('bias'), floats(weights[1]), [kernel.shape[1] as number])]);
        x = activation(g, x, config.activation, layout, where);
        return;
      }
      case 'Activation':
        x = activation(g, x, config.activation, layout, where);
        return;
      case 'ReLU':
        x = g.op('Relu', [x]);
        return;
      default:
        throw new IntrodlError(`${where}: this layer kind has no ONNX export yet`);
    }
  });
  if ((layout as Layout) === 'nchw') x = g.op('Transpose', [x], { perm: a.ints([0, 2, 3, 1]) });
  return x;
}
