import path from 'node:path';
import { Rng, RunFolder, tf } from '@introdl/core';
import { LAB } from '../model/checkpoint.js';
import { gradientOfSquare } from '../part1/autograd.js';
import { OurDenseLayer } from '../part1/dense.js';
import { minimise, plotHistory } from '../part1/gradient-descent.js';
import { func } from '../part1/graph.js';
import { LinearButSometimesIdentity, LinearWithSigmoidActivation, sequentialModel } from '../part1/models.js';
import { makeImages, makeMatrix, sliceExamples } from '../part1/tensors.js';

/** The results of Part 1, in the course's order. */
export interface IntroResults {
  dir: string;
  lines: string[];
  finalX: number;
  plot: string;
}

const fmt = (t: tf.Tensor) =>
  JSON.stringify(t.arraySync(), (_k, v) => (typeof v === 'number' ? Number(v.toFixed(4)) : v));

/** Runs every Part 1 exercise, prints what each gives and plots the gradient-descent history. */
export async function runIntro(options: {
  seed: number;
  out?: string;
  backend?: string;
  device?: string;
}): Promise<IntroResults> {
  const run = RunFolder.create({
    lab: LAB,
    command: 'introdl lab1 intro',
    config: {},
    seed: options.seed,
    out: options.out,
    backend: options.backend,
    device: options.device,
  });
  const lines: string[] = [];
  const say = (s: string) => lines.push(s);
  const rng = new Rng(options.seed);

  say('1.1 Tensors');
  const matrix = makeMatrix();
  const images = makeImages();
  say(`  matrix: rank ${matrix.rank}, shape [${matrix.shape}]; images: rank ${images.rank}, shape [${images.shape}]`);
  const s = sliceExamples(matrix);
  say(`  matrix[1] = [${s.row}], matrix[:, 1] = [${s.column}], matrix[0, 1] = ${s.element}`);
  tf.dispose([matrix, images]);

  say('1.2 Computation graph');
  say(`  func(1.5, 2.5) = ${func(tf.scalar(1.5), tf.scalar(2.5)).dataSync()[0]}`);

  say('1.3 Dense layer from scratch');
  const dense = new OurDenseLayer(2, 3, rng);
  say(`  OurDenseLayer(2, 3) on [[1, 2]] → ${fmt(dense.apply(tf.tensor2d([[1, 2]])))}`);

  say('1.4 Models');
  const x = tf.tensor2d([[1, 2]]);
  say(`  Sequential(Linear(2, 3), Sigmoid) on [[1, 2]] → ${fmt(sequentialModel(rng).apply(x))}`);
  say(`  LinearWithSigmoidActivation(2, 3) on [[1, 2]] → ${fmt(new LinearWithSigmoidActivation(2, 3, rng).apply(x))}`);
  const switchable = new LinearButSometimesIdentity(2, 3, rng);
  say(
    `  LinearButSometimesIdentity: isIdentity=false → ${fmt(switchable.apply(x))}, isIdentity=true → ${fmt(switchable.apply(x, true))}`,
  );

  say('1.5 Automatic differentiation');
  say(`  d(x²)/dx at x = 3 is ${gradientOfSquare(3)}`);

  say('1.6 Gradient descent on L = (x − 4)², learning rate 0.01, 500 steps');
  const { start, history } = minimise({ seed: options.seed });
  const finalX = history[history.length - 1];
  say(`  x went from ${start.toFixed(4)} to ${finalX.toFixed(4)}`);
  const plot = await plotHistory(history, 4, run.output('gradient-descent'));
  say(`  plot: ${plot.png}`);
  run.finish('completed', { funcResult: 6, finalX, plot: path.relative(run.dir, plot.png) });
  return { dir: run.dir, lines, finalX, plot: plot.png };
}
