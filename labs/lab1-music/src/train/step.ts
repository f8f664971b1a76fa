import { type Optimizer, tf } from '@introdl/core';
import { computeLoss } from '../model/loss.js';
import type { MusicModel } from '../model/music-model.js';

/**
 * Exercise 2.7 of the course (`train_step`): one optimisation step on a batch. Run the model,
 * compute the loss, take its gradient with respect to every weight, and let the optimizer update
 * the weights. Returns the loss before the update. (Core's Trainer runs exactly this inside its
 * loop, with checkpoints, logging and validation around it.)
 */
export function trainStep(model: MusicModel, optimizer: Optimizer, x: tf.Tensor, y: tf.Tensor): number {
  const variables = model.variables();
  const names = [...variables.keys()];
  const list = [...variables.values()];
  return tf.tidy(() => {
    // @exercise lab1.part2.5 "Define the training step"
    // Hint: tf.variableGrads(() => computeLoss(y, model.apply(x)), list) gives the loss and one gradient per
    // variable (keyed by the variable's tfjs name); map them to the model's names for optimizer.applyGradients.
    const { value, grads } = tf.variableGrads(() => computeLoss(y, model.apply(x)), list);
    const named: Record<string, tf.Tensor> = {};
    list.forEach((v, i) => {
      named[names[i]] = grads[v.name];
    });
    optimizer.applyGradients(variables, named);
    return value.dataSync()[0];
    // @end
  });
}
