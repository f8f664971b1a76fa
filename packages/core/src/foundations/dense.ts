import * as tf from '@tensorflow/tfjs';
import { BadShapeError } from '../errors.js';
import { Rng } from '../rng.js';
import { type Activation, type ActivationName, getActivation } from './activations.js';
import { glorotUniform } from './initializers.js';
import { type ApplyOptions, Layer } from './layer.js';

/**
 * The perceptron of lecture 1: ŷ = g(w₀ + Σᵢ xᵢ wᵢ).
 * `x` is [batch, inputs], `w` is [inputs], `w0` the bias; returns [batch].
 */
export function perceptron(x: tf.Tensor2D, w: tf.Tensor1D, w0: number | tf.Scalar, g: Activation): tf.Tensor1D {
  return tf.tidy(() => {
    const weightedSum = tf.add(tf.sum(tf.mul(x, w), 1), w0); // w₀ + xᵀw for every row
    return g(weightedSum) as tf.Tensor1D;
  });
}

/** Options of {@link Dense}. */
export interface DenseOptions {
  inputs: number;
  units: number;
  activation?: ActivationName | Activation;
  useBias?: boolean;
  /** Seeds the Glorot-uniform kernel (zeros for the bias), as in Keras. */
  rng?: Rng;
  name?: string;
}

/**
 * A dense (fully connected) layer written from scratch: z = xW + b, then y = g(z).
 * Many perceptrons side by side, one per output unit. Given the same weights it computes exactly
 * what `tf.layers.dense` computes (a test checks this).
 */
export class Dense extends Layer {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly activation: Activation;
  readonly units: number;
  readonly inputs: number;

  constructor(options: DenseOptions) {
    super(options.name ?? 'dense');
    this.inputs = options.inputs;
    this.units = options.units;
    const rng = options.rng ?? new Rng(0);
    this.kernel = tf.variable(glorotUniform([options.inputs, options.units], rng), true);
    this.bias = options.useBias === false ? null : tf.variable(tf.zeros([options.units]), true);
    this.activation = getActivation(options.activation ?? 'linear');
  }

  /** The weighted sum z = xW + b, before the activation. */
  weightedSum(x: tf.Tensor): tf.Tensor {
    const last = x.shape[x.shape.length - 1];
    if (last !== this.inputs) throw new BadShapeError(`${this.name} input`, [null, this.inputs], x.shape);
    return tf.tidy(() => {
      // A rank-3 input (batch, time, features) is flattened to rows, multiplied, and reshaped back.
      const rows = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, this.inputs]);
      const product = tf.matMul(rows as tf.Tensor2D, this.kernel as tf.Tensor2D);
      const z = x.rank === 2 ? product : tf.reshape(product, [...x.shape.slice(0, -1), this.units]);
      return this.bias ? tf.add(z, this.bias) : z;
    });
  }

  apply(x: tf.Tensor, _options?: ApplyOptions): tf.Tensor {
    return tf.tidy(() => this.activation(this.weightedSum(x)));
  }

  override variables(): Map<string, tf.Variable> {
    const vars = new Map([['kernel', this.kernel]]);
    if (this.bias) vars.set('bias', this.bias);
    return vars;
  }

  outputShape(inputShape: (number | null)[]): (number | null)[] {
    return [...inputShape.slice(0, -1), this.units];
  }
}
