/**
 * Probes for Lab 2: how the grader calls a student's Lab 2 code, with small inputs on the plain
 * JavaScript backend. Relative imports name the lab's own files (the student's version when
 * grading); the grading process compares the outputs with the reference solution's.
 */

import { tf, useBackend } from '@introdl/core';
import { countCorrect } from '../digits/evaluate.js';
import { buildCnnModel, buildFcModel, countParameters } from '../digits/models.js';
import { debiasingLoss, sampleLatent, vaeLoss } from '../faces/dbvae-losses.js';
import { inverseDensityWeights } from '../faces/resampling.js';

type Matrix = number[][];
type Images = number[][][][];

export async function setup(): Promise<void> {
  await useBackend('cpu');
}

async function values(t: tf.Tensor): Promise<unknown> {
  const v = await t.array();
  t.dispose();
  return v;
}

/** A deterministic batch of 28×28 grey images. */
function digits(n: number): tf.Tensor4D {
  return tf.tidy(
    () =>
      tf
        .sin(
          tf
            .range(0, n * 784)
            .reshape([n, 28, 28, 1])
            .mul(0.37),
        )
        .add(1)
        .mul(0.5) as tf.Tensor4D,
  );
}

export async function fcModel(input: { seed: number; n: number }) {
  const model = buildFcModel(input.seed);
  const logits = await values(model.predict(digits(input.n)) as tf.Tensor);
  return { parameters: countParameters(model), outputShape: model.outputShape, logits };
}

export async function cnnModel(input: { seed: number; n: number }) {
  const model = buildCnnModel(input.seed);
  const logits = await values(model.predict(digits(input.n)) as tf.Tensor);
  return { parameters: countParameters(model), outputShape: model.outputShape, logits };
}

export function correct(input: { logits: Matrix; labels: number[] }): number {
  return countCorrect(tf.tensor2d(input.logits), tf.tensor1d(input.labels));
}

export async function vae(input: { x: Images; xRecon: Images; mu: Matrix; logsigma: Matrix; klWeight: number }) {
  const loss = vaeLoss(
    tf.tensor4d(input.x),
    tf.tensor4d(input.xRecon),
    tf.tensor2d(input.mu),
    tf.tensor2d(input.logsigma),
    input.klWeight,
  );
  return values(loss);
}

export async function sample(input: { mu: Matrix; logsigma: Matrix; epsilon: Matrix }) {
  return values(sampleLatent(tf.tensor2d(input.mu), tf.tensor2d(input.logsigma), tf.tensor2d(input.epsilon)));
}

export async function debiasing(input: {
  x: Images;
  xRecon: Images;
  y: Matrix;
  yLogit: Matrix;
  mu: Matrix;
  logsigma: Matrix;
}) {
  const { total, classification } = debiasingLoss(
    tf.tensor4d(input.x),
    tf.tensor4d(input.xRecon),
    tf.tensor2d(input.y),
    tf.tensor2d(input.yLogit),
    tf.tensor2d(input.mu),
    tf.tensor2d(input.logsigma),
  );
  return { total: await values(total), classification: await values(classification) };
}

export function weights(input: { values: number[]; bins?: number; smoothing?: number }): number[] {
  return Array.from(inverseDensityWeights(input.values, input.bins, input.smoothing));
}
