import { type ApplyOptions, Layer, Rng, randomNormal, sigmoid, tf } from '@introdl/core';

/**
 * Part 1.3, a dense layer from scratch, as the course's `OurDenseLayer`: weights W ~ N(0, 1) of
 * shape [inputs, outputs] and a bias ~ N(0, 1) of [outputs]; the output is y = σ(xW + b).
 * Core's `Dense` computes the same thing given the same weights (a test checks it).
 */
export class OurDenseLayer extends Layer {
  readonly W: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly numInputs: number,
    readonly numOutputs: number,
    rng = new Rng(0),
  ) {
    super('our_dense');
    this.W = tf.variable(randomNormal([numInputs, numOutputs], rng), true);
    this.bias = tf.variable(randomNormal([numOutputs], rng), true);
  }

  apply(x: tf.Tensor, _options?: ApplyOptions): tf.Tensor {
    return tf.tidy(() => {
      // @exercise lab1.part1.4 "Dense layer forward pass"
      // Hint: z = x·W + bias (tf.matMul, tf.add), then the sigmoid activation y = σ(z).
      const z = tf.add(tf.matMul(x as tf.Tensor2D, this.W as tf.Tensor2D), this.bias);
      return sigmoid(z);
      // @end
    });
  }

  override variables(): Map<string, tf.Variable> {
    return new Map([
      ['W', this.W],
      ['bias', this.bias],
    ]);
  }

  outputShape(inputShape: (number | null)[]): (number | null)[] {
    return [...inputShape.slice(0, -1), this.numOutputs];
  }
}
