import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.js';

/** How a layer is being called: training turns dropout on; `rng` makes its masks reproducible. */
export interface ApplyOptions {
  training?: boolean;
  rng?: Rng;
}

/** Anything with named trainable variables: what the optimizers, the Trainer and checkpoints work on. */
export interface Trainable {
  /** Every trainable variable, by a stable name such as `dense_1/kernel`. */
  variables(): Map<string, tf.Variable>;
  /**
   * Variables that are not trained by gradients but belong to the model's state, such as batch
   * normalisation's moving mean and variance: saved in checkpoints with the weights.
   */
  state?(): Map<string, tf.Variable>;
}

/** Trainable and state variables together: what a checkpoint saves and restores. */
export function allVariables(model: Trainable): Map<string, tf.Variable> {
  return new Map([...model.variables(), ...(model.state?.() ?? [])]);
}

/** A layer: a function of its input with named variables, in the style of Keras. */
export abstract class Layer implements Trainable {
  constructor(readonly name: string) {}

  /** Runs the layer on a batch. */
  abstract apply(x: tf.Tensor, options?: ApplyOptions): tf.Tensor;

  /** The layer's own variables by short name (`kernel`, `bias`); none by default. */
  variables(): Map<string, tf.Variable> {
    return new Map();
  }

  /** Number of trainable scalars. */
  countParams(): number {
    let n = 0;
    for (const v of this.variables().values()) n += v.size;
    return n;
  }

  /** The output shape for an input shape (batch dimension as `null`). */
  abstract outputShape(inputShape: (number | null)[]): (number | null)[];
}
