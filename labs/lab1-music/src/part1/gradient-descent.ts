import { lineChartSpec, type PlotFiles, Rng, tf, writePlot } from '@introdl/core';

/**
 * Part 1.6, function minimisation by gradient descent: start from x ~ N(0, 1) and repeatedly
 * step against the gradient of L = (x − x_f)². With x_f = 4, a learning rate of 0.01 and 500
 * steps, x ends within 10⁻³ of 4 (each step shrinks the distance by a factor 1 − 2·0.01).
 */

/** Options of {@link minimise}; defaults are the course's. */
export interface MinimiseOptions {
  target?: number;
  learningRate?: number;
  iterations?: number;
  /** Seeds the starting x ~ N(0, 1). */
  seed?: number;
}

/** The exercise's loss for a current x and the target x_f. */
export function targetLoss(x: tf.Tensor, target: number): tf.Scalar {
  // @exercise lab1.part1.8 "Compute the loss"
  // Hint: the squared distance to the target, (x − x_f)², with tf.square and tf.sub.
  return tf.square(tf.sub(x, target)).sum() as tf.Scalar;
  // @end
}

/** Runs gradient descent and returns x after every step (the history the course plots). */
export function minimise(options: MinimiseOptions = {}): { start: number; history: number[] } {
  const target = options.target ?? 4;
  const lr = options.learningRate ?? 1e-2;
  const iterations = options.iterations ?? 500;
  const start = new Rng(options.seed ?? 1).normal();
  const x = tf.variable(tf.scalar(start));
  const history: number[] = [];
  try {
    for (let i = 0; i < iterations; i++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => targetLoss(x, target), [x]);
        x.assign(tf.sub(x, tf.mul(grads[x.name], lr)));
      });
      history.push(x.dataSync()[0]);
    }
  } finally {
    x.dispose();
  }
  return { start, history };
}

/** Plots x against the iteration, with the target as a flat line: `<base>.svg` and `.png`. */
export function plotHistory(history: readonly number[], target: number, base: string): Promise<PlotFiles> {
  return writePlot(
    lineChartSpec({
      title: `Gradient descent on (x − ${target})²`,
      xLabel: 'iteration',
      yLabel: 'x',
      series: [
        { name: 'x', points: history.map((y, i) => ({ x: i + 1, y })) },
        { name: 'target', points: history.map((_, i) => ({ x: i + 1, y: target })) },
      ],
    }),
    base,
  );
}
