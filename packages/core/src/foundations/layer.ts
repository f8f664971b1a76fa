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
