import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng.js';
import { type ApplyOptions, Layer } from './layer.js';

/**
 * Inverted dropout: in training, zero each unit with probability `rate` and scale the survivors by
 * 1/(1−rate), so the expected activation is unchanged and inference needs no rescaling.
 * At inference (training false) it is the identity. The mask is drawn from a seed taken from `rng`,
 * so a run is reproducible and a resumed run draws the same masks.
 */
export function dropout(x: tf.Tensor, rate: number, options: ApplyOptions = {}): tf.Tensor {
  if (rate < 0 || rate >= 1) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  if (!options.training || rate === 0) return x;
  const seed = (options.rng ?? new Rng(0)).seed();
  return tf.tidy(() => {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), rate), x.dtype);
    return tf.mul(x, tf.div(keep, 1 - rate));
  });
}

/** {@link dropout} as a layer. */
export class Dropout extends Layer {
  constructor(
    readonly rate: number,
    name = 'dropout',
  ) {
    super(name);
  }

  apply(x: tf.Tensor, options?: ApplyOptions): tf.Tensor {
    return dropout(x, this.rate, options);
  }

  outputShape(inputShape: (number | null)[]): (number | null)[] {
    return inputShape;
  }
}

/**
 * L2 weight decay: λ·Σ w² over the given variables, added to the loss. By convention only kernels
 * (matrices) are decayed, not biases; pass the variables you want.
 */
export function l2Penalty(variables: Iterable<tf.Variable>, lambda: number): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Tensor = tf.scalar(0);
    for (const v of variables) total = tf.add(total, tf.sum(tf.square(v)));
    return tf.mul(total, lambda) as tf.Scalar;
  });
}

/** The variables of a model whose names end in `kernel`: what {@link l2Penalty} usually decays. */
export function kernelsOf(variables: Map<string, tf.Variable>): tf.Variable[] {
  return [...variables].filter(([name]) => name.endsWith('kernel')).map(([, v]) => v);
}
