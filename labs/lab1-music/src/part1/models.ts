import { type ApplyOptions, Dense, Layer, Rng, Sequential, sigmoid, type Trainable, tf } from '@introdl/core';

/**
 * Part 1.4, models: layers composed in order (`Sequential`) or in a class of your own (the
 * "subclassing" API), which can also change how it computes, like the identity switch.
 */

/** The sigmoid as a layer of its own, as PyTorch's `nn.Sigmoid()` in `nn.Sequential`. */
export class SigmoidLayer extends Layer {
  constructor() {
    super('sigmoid');
  }

  apply(x: tf.Tensor, _options?: ApplyOptions): tf.Tensor {
    return sigmoid(x);
  }

  outputShape(inputShape: (number | null)[]): (number | null)[] {
    return inputShape;
  }
}

/** Exercise 1.4a, the course's sequential model: `Linear(2, 3)` followed by `Sigmoid`. */
export function sequentialModel(rng = new Rng(0)): Sequential {
  // @exercise lab1.part1.5 "Define a Sequential model"
  // Hint: new Sequential([...]) with a Dense of 2 inputs and 3 units, then a SigmoidLayer.
  return new Sequential([new Dense({ inputs: 2, units: 3, rng }), new SigmoidLayer()]);
  // @end
}

/** Exercise 1.4b, a subclassed model: a linear layer and a sigmoid, composed in `apply`. */
export class LinearWithSigmoidActivation implements Trainable {
  readonly linear: Dense;
  readonly activation: SigmoidLayer;

  constructor(numInputs: number, numOutputs: number, rng = new Rng(0)) {
    // @exercise lab1.part1.6 "Subclass a model"
    // Hint: this.linear is a Dense(numInputs → numOutputs); this.activation a SigmoidLayer.
    this.linear = new Dense({ inputs: numInputs, units: numOutputs, rng });
    this.activation = new SigmoidLayer();
    // @end
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.activation.apply(this.linear.apply(x)));
  }

  variables(): Map<string, tf.Variable> {
    return new Map([...this.linear.variables()].map(([k, v]) => [`linear/${k}`, v]));
  }
}

/**
 * Exercise 1.4c, custom behaviour: a linear layer that returns its input unchanged when asked
 * (`isIdentity`), the course's `LinearButSometimesIdentity`.
 */
export class LinearButSometimesIdentity implements Trainable {
  readonly linear: Dense;

  constructor(numInputs: number, numOutputs: number, rng = new Rng(0)) {
    this.linear = new Dense({ inputs: numInputs, units: numOutputs, rng });
  }

  apply(x: tf.Tensor, isIdentity = false): tf.Tensor {
    // @exercise lab1.part1.7 "Custom behaviour: the identity switch"
    // Hint: return x itself when isIdentity is true, else the linear layer's output.
    return isIdentity ? x : this.linear.apply(x);
    // @end
  }

  variables(): Map<string, tf.Variable> {
    return new Map([...this.linear.variables()].map(([k, v]) => [`linear/${k}`, v]));
  }
}
