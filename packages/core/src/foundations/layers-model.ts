import type * as tf from '@tensorflow/tfjs';
import type { Trainable } from './layer.js';

/**
 * Lets a tfjs-layers model (`tf.sequential`, `tf.model`) train with the core Trainer and be saved
 * in core checkpoints. Variables are named by layer position and weight (`layers.0/kernel`), not by
 * tfjs' global counters (`conv2d_Conv2D3`), so the names are the same in every process and a
 * checkpoint written by one run loads in another.
 */
export function trainableFromLayers(model: tf.LayersModel): Trainable & { model: tf.LayersModel } {
  const collect = (trainable: boolean) => {
    const vars = new Map<string, tf.Variable>();
    model.layers.forEach((layer, i) => {
      for (const w of trainable ? layer.trainableWeights : layer.nonTrainableWeights) {
        const short = w.originalName.split('/').pop();
        vars.set(`layers.${i}/${short}`, w.read() as tf.Variable);
      }
    });
    return vars;
  };
  return { model, variables: () => collect(true), state: () => collect(false) };
}
