import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from '../foundations/optimizers.js';

/**
 * One optimizer step: the gradient of `loss` with respect to every variable, applied by `optimizer`
 * under the variables' own names. Returns the loss before the step (a scalar the caller disposes).
 * The Trainer calls it once per step; benchmarks call it to time exactly the Trainer's work.
 */
export function optimizerStep(
  variables: Map<string, tf.Variable>,
  optimizer: Optimizer,
  loss: () => tf.Scalar,
): tf.Scalar {
  const names = [...variables.keys()];
  const list = [...variables.values()];
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, list);
    // variableGrads keys gradients by tfjs' global variable names; the optimizer wants ours.
    const named: Record<string, tf.Tensor> = {};
    list.forEach((v, i) => {
      named[names[i]] = grads[v.name];
    });
    optimizer.applyGradients(variables, named);
    return value;
  });
}
