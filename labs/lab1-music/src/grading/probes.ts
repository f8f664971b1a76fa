/**
 * Probes for Lab 1: how the grader calls a student's Lab 1 code. Each takes JSON input and returns
 * JSON; the grading process compares it with the reference solution's output for the same input,
 * or checks it with targets it keeps to itself. Relative imports name the lab's own files (the
 * student's version of them when grading). Everything runs on the plain JavaScript backend, small.
 */

import { Adam, Rng, tf, useBackend } from '@introdl/core';
import { getBatch } from '../data/batches.js';
import { Vocabulary, vectorize } from '../data/vocab.js';
import { generateText } from '../model/generate.js';
import { computeLoss } from '../model/loss.js';
import { MusicModel } from '../model/music-model.js';
import { OurDenseLayer } from '../part1/dense.js';
import { minimise, targetLoss } from '../part1/gradient-descent.js';
import { func } from '../part1/graph.js';
import { LinearButSometimesIdentity, LinearWithSigmoidActivation, sequentialModel } from '../part1/models.js';
import { makeImages, makeMatrix } from '../part1/tensors.js';
import { trainStep } from '../train/step.js';

type Matrix = number[][];

export async function setup(): Promise<void> {
  await useBackend('cpu');
}

async function values(t: tf.Tensor): Promise<unknown> {
  const v = await t.array();
  t.dispose();
  return v;
}

export async function matrix(): Promise<unknown> {
  const m = makeMatrix();
  return { shape: m.shape, dtype: m.dtype, values: await values(m) };
}

export async function images(): Promise<unknown> {
  const t = makeImages();
  const sum = (await t.sum().data())[0];
  const out = { shape: t.shape, dtype: t.dtype, sum };
  t.dispose();
  return out;
}

export async function graph(input: { a: number; b: number }): Promise<number> {
  return (await func(tf.scalar(input.a), tf.scalar(input.b)).data())[0];
}

export async function denseForward(input: { inputs: number; outputs: number; seed: number; x: Matrix }) {
  const layer = new OurDenseLayer(input.inputs, input.outputs, new Rng(input.seed));
  return values(layer.apply(tf.tensor2d(input.x)));
}

export async function sequential(input: { seed: number; x: Matrix }) {
  return values(sequentialModel(new Rng(input.seed)).apply(tf.tensor2d(input.x)));
}

export async function subclassed(input: { inputs: number; outputs: number; seed: number; x: Matrix }) {
  const model = new LinearWithSigmoidActivation(input.inputs, input.outputs, new Rng(input.seed));
  return values(model.apply(tf.tensor2d(input.x)));
}

export async function identitySwitch(input: { seed: number; x: Matrix; isIdentity: boolean }) {
  const model = new LinearButSometimesIdentity(input.x[0].length, 3, new Rng(input.seed));
  return values(model.apply(tf.tensor2d(input.x), input.isIdentity));
}

export async function loss(input: { x: number[]; target: number }): Promise<number> {
  return (await targetLoss(tf.tensor1d(input.x), input.target).data())[0];
}

export function descend(input: { seed: number; iterations: number }): number {
  const { history } = minimise({ seed: input.seed, iterations: input.iterations });
  return history[history.length - 1];
}

export function vectorized(input: { text: string }): number[] {
  return Array.from(vectorize(input.text, Vocabulary.fromText(input.text)));
}

export function batch(input: { text: string; seqLength: number; batchSize: number; seed: number }) {
  const vec = vectorize(input.text, Vocabulary.fromText(input.text));
  const b = getBatch(vec, input.seqLength, input.batchSize, new Rng(input.seed));
  return { x: Array.from(b.x), y: Array.from(b.y), batchSize: b.batchSize, seqLength: b.seqLength };
}

const TINY = { vocabSize: 7, embeddingDim: 4, units: 6 };

export async function modelLogits(input: { ids: Matrix; seed: number }) {
  const model = new MusicModel(TINY, new Rng(input.seed));
  const count = [...model.variables().values()].reduce((s, v) => s + v.size, 0);
  return { parameters: count, logits: await values(model.apply(tf.tensor2d(input.ids, undefined, 'int32'))) };
}

export async function crossEntropy(input: { labels: Matrix; logits: number[][][] }): Promise<number> {
  const labels = tf.tensor2d(input.labels, undefined, 'int32');
  return (await computeLoss(labels, tf.tensor3d(input.logits)).data())[0];
}

export function trainSteps(input: { x: Matrix; y: Matrix; seed: number; steps: number }): number[] {
  const model = new MusicModel(TINY, new Rng(input.seed));
  const optimizer = new Adam(0.05);
  const x = tf.tensor2d(input.x, undefined, 'int32');
  const y = tf.tensor2d(input.y, undefined, 'int32');
  return Array.from({ length: input.steps }, () => trainStep(model, optimizer, x, y));
}

export function generate(input: { seed: number; start: string; length: number; temperature: number }) {
  const vocab = new Vocabulary(['\n', ' ', 'A', 'B', 'C', 'X', ':']);
  const model = new MusicModel(TINY, new Rng(input.seed));
  const out = generateText(model, vocab, {
    start: input.start,
    length: input.length,
    temperature: input.temperature,
    rng: new Rng(input.seed + 1),
  });
  return { text: out.text, generated: out.generated };
}
