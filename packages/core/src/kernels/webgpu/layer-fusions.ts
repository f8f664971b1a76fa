import * as tf from '@tensorflow/tfjs';
import { batchNormTrainFits, batchNormTrainWebGPU } from './batchnorm-train.js';
import { type BiasActivation, biasActFits, conv2dBiasActWebGPU, matMulBiasActWebGPU } from './bias-act.js';
import { fusedWebGPUActive } from './runner.js';

/**
 * Routes tf.layers' Conv2D, Dense and BatchNormalization through the fused WebGPU kernels on the
 * webgpu backend, so models built from tf.layers (Lab 2's CNN and DB-VAE) train in a few dozen
 * dispatches a step with no change to the model code: same classes, same weights, same
 * serialisation, checkpoints and export. Each layer's `call` is wrapped; it takes the fused path
 * only where that computes exactly what the layer would (webgpu, float32, channels last, bias,
 * ReLU or no activation, dilation 1; batch norm while training, over the last axis with γ and β)
 * and calls the layer's own `call` otherwise. `INTRODL_WEBGPU_FUSED=0` turns it off with the rest.
 */

type Kwargs = Record<string, unknown>;
type Call = (this: LayerLike, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | tf.Tensor[];

interface Weight {
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}

interface LayerLike {
  activation?: { getClassName(): string } | null;
  kernel?: Weight;
  bias?: Weight | null;
  invokeCallHook?(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): void;
  // Conv2D
  rank?: number;
  strides?: number[];
  padding?: string;
  dataFormat?: string;
  dilationRate?: number | number[];
  // BatchNormalization
  axis?: number;
  momentum?: number;
  epsilon?: number;
  gamma?: Weight | null;
  beta?: Weight | null;
  movingMean?: Weight;
  movingVariance?: Weight;
}

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | undefined {
  if (!Array.isArray(inputs)) return inputs;
  return inputs.length === 1 ? inputs[0] : undefined;
}

/** 'relu' or 'linear' when the layer's activation is one of those, else undefined. */
function activationOf(layer: LayerLike): BiasActivation | undefined {
  const name = (layer.activation?.getClassName() ?? 'linear').toLowerCase();
  return name === 'relu' || name === 'linear' ? name : undefined;
}

function conv2dCall(this: LayerLike, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | undefined {
  const x = one(inputs);
  const activation = activationOf(this);
  const dilation = [this.dilationRate ?? 1].flat();
  if (x?.rank !== 4 || !this.kernel || !this.bias || !activation || this.rank !== 2) return undefined;
  if (this.dataFormat !== 'channelsLast' || dilation.some((d) => d !== 1)) return undefined;
  if (this.padding !== 'same' && this.padding !== 'valid') return undefined;
  const kernel = this.kernel.read();
  const bias = this.bias.read();
  if (!biasActFits(x, kernel, bias)) return undefined;
  const strides = (this.strides ?? [1, 1]) as [number, number];
  return conv2dBiasActWebGPU(
    x as tf.Tensor4D,
    kernel as tf.Tensor4D,
    bias as tf.Tensor1D,
    strides,
    this.padding,
    activation,
  );
}

function denseCall(this: LayerLike, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | undefined {
  const x = one(inputs);
  const activation = activationOf(this);
  if (x?.rank !== 2 || !this.kernel || !this.bias || !activation) return undefined;
  const kernel = this.kernel.read();
  const bias = this.bias.read();
  if (kernel.rank !== 2 || !biasActFits(x, kernel, bias)) return undefined;
  this.invokeCallHook?.(inputs, kwargs);
  return matMulBiasActWebGPU(x as tf.Tensor2D, kernel as tf.Tensor2D, bias as tf.Tensor1D, activation);
}

function batchNormCall(this: LayerLike, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | undefined {
  const x = one(inputs);
  if (!x || !kwargs?.training || !this.gamma || !this.beta || !this.movingMean || !this.movingVariance) {
    return undefined;
  }
  const axis = this.axis ?? -1;
  if ((axis < 0 ? axis + x.rank : axis) !== x.rank - 1 || !batchNormTrainFits(x)) return undefined;
  const { y, movingMean, movingVariance } = batchNormTrainWebGPU(
    x,
    this.gamma.read() as tf.Tensor1D,
    this.beta.read() as tf.Tensor1D,
    this.movingMean.read() as tf.Tensor1D,
    this.movingVariance.read() as tf.Tensor1D,
    this.epsilon ?? 1e-3,
    this.momentum ?? 0.99,
  );
  this.movingMean.write(movingMean);
  this.movingVariance.write(movingVariance);
  tf.dispose([movingMean, movingVariance]);
  return y;
}

const FUSED: Record<
  string,
  (this: LayerLike, inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => tf.Tensor | undefined
> = { Conv2D: conv2dCall, Dense: denseCall, BatchNormalization: batchNormCall };

let registered = false;

/** Wraps the three layers' `call` (once). */
export function registerLayerFusions(): void {
  if (registered) return;
  registered = true;
  const classes = tf.serialization.SerializationMap.getMap().classNameMap;
  for (const [name, fused] of Object.entries(FUSED)) {
    const cls = classes[name]?.[0] as { prototype: { call: Call } } | undefined;
    if (!cls) continue;
    const original = cls.prototype.call;
    cls.prototype.call = function (this: LayerLike, inputs, kwargs) {
      if (!fusedWebGPUActive()) return original.call(this, inputs, kwargs);
      return tf.tidy(() => fused.call(this, inputs, kwargs ?? {}) ?? original.call(this, inputs, kwargs));
    };
  }
}
