import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { MiniBatches, subset } from '../data/batches.js';
import { FASHION_MNIST } from '../data/fashion-mnist.js';
import { loadImageClassification } from '../data/image-classification.js';
import { locateDataset } from '../data/locate.js';
import { EarlyStopping } from '../foundations/early-stopping.js';
import { softmaxCrossEntropy } from '../foundations/losses.js';
import { Adam } from '../foundations/optimizers.js';
import { mlp } from '../foundations/sequential.js';
import { writeLossPlot } from '../plot/loss-plot.js';
import { Rng } from '../rng.js';
import { RunFolder } from '../run/run-folder.js';
import { evaluateClassifier } from '../train/evaluate.js';
import type { ProgressOptions } from '../train/progress.js';
import { Trainer, type TrainResult } from '../train/trainer.js';

/**
 * The first real job: the lecture's point about overfitting, measured. An MLP trains on a train
 * split small enough to memorise, twice: plainly, and with dropout + early stopping. The plain
 * run's validation loss bottoms out and then rises while its training loss keeps falling; early
 * stopping notices and puts back the best weights.
 */

export interface DemoOptions {
  seed: number;
  /** Parent run folder; the two trainings go in `<out>/plain` and `<out>/regularized`. */
  out?: string;
  dataDir?: string;
  trainSize?: number;
  validationSize?: number;
  epochs?: number;
  batchSize?: number;
  hidden?: number;
  dropout?: number;
  patience?: number;
  learningRate?: number;
  backend?: string;
  device?: string;
  log?: (m: string) => void;
  progress?: ProgressOptions['mode'];
}

export interface DemoRunSummary {
  steps: number;
  stoppedEarly: boolean;
  weightsFromStep: number;
  bestValLoss: number;
  bestValLossStep: number;
  finalValLoss: number;
  valLoss: number;
  valAccuracy: number;
  trainLoss: number;
  seconds: number;
}

export interface DemoResult {
  dir: string;
  plain: DemoRunSummary;
  regularized: DemoRunSummary;
  plots: string[];
}

/** Per-interval mean training loss and the validation loss at the same steps, for the plot. */
function curves(result: TrainResult) {
  const train: { step: number; value: number }[] = [];
  let from = 0;
  for (const v of result.validations) {
    const window = result.losses.filter((l) => l.step > from && l.step <= v.step);
    train.push({ step: v.step, value: window.reduce((a, l) => a + l.loss, 0) / Math.max(1, window.length) });
    from = v.step;
  }
  const validation = result.validations.map((v) => ({ step: v.step, value: v.val_loss }));
  return { train, validation };
}

export async function runOverfittingDemo(options: DemoOptions): Promise<DemoResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const trainSize = options.trainSize ?? 1000;
  const valSize = options.validationSize ?? 5000;
  const epochs = options.epochs ?? 50;
  const batchSize = options.batchSize ?? 32;
  const hidden = options.hidden ?? 256;

  const found = await locateDataset(FASHION_MNIST, { path: options.dataDir });
  log(`Fashion-MNIST from ${found.dir} (${found.source})`);
  const data = await loadImageClassification({ dir: found.dir }, { split: 'train' });
  const order = new Rng(options.seed).permutation(data.n);
  const pixels = data.height * data.width;
  const trainIdx = order.subarray(0, trainSize);
  const valIdx = order.subarray(trainSize, trainSize + valSize);
  const trainSet = new MiniBatches(
    subset(data.images, pixels, trainIdx),
    subset(data.labels, 1, trainIdx),
    [pixels],
    batchSize,
    options.seed,
  );
  const valSet = new MiniBatches(
    subset(data.images, pixels, valIdx),
    subset(data.labels, 1, valIdx),
    [pixels],
    batchSize,
    options.seed,
  );
  log(
    `train on ${trainSize} images (small enough to memorise), validate on ${valSize}; ${epochs} epochs of ${trainSet.stepsPerEpoch} steps`,
  );

  const parent = RunFolder.create({
    lab: 'core',
    command: 'introdl core demo',
    config: {
      trainSize,
      valSize,
      epochs,
      batchSize,
      hidden,
      dropout: options.dropout ?? 0.3,
      patience: options.patience ?? 10,
    },
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.out,
    name: options.out
      ? undefined
      : `demo-${new Date()
          .toISOString()
          .replace(/[:]/g, '-')
          .replace(/\.\d+Z$/, 'Z')}`,
  });

  const trainOne = async (kind: 'plain' | 'regularized') => {
    const regularized = kind === 'regularized';
    const dropout = regularized ? (options.dropout ?? 0.3) : 0;
    const model = mlp([pixels, hidden, hidden, 10], { dropout, seed: options.seed });
    const config = {
      model: `mlp ${pixels}-${hidden}-${hidden}-10`,
      dropout,
      earlyStopping: regularized,
      learningRate: options.learningRate ?? 1e-3,
      batchSize,
      epochs,
    };
    const run = RunFolder.create({
      lab: 'core',
      command: `introdl core demo (${kind})`,
      config,
      seed: options.seed,
      backend: options.backend,
      device: options.device,
      out: path.join(parent.dir, kind),
    });
    const earlyStopping = regularized
      ? new EarlyStopping({ patience: options.patience ?? 10, restoreBestWeights: true })
      : undefined;
    const predict = (x: tf.Tensor) => model.apply(x, { training: false });
    const trainer = new Trainer({
      model,
      optimizer: new Adam(config.learningRate),
      loss: (b: { x: tf.Tensor; y: tf.Tensor }, ctx) =>
        softmaxCrossEntropy(b.y, model.apply(b.x, { training: true, rng: ctx.rng })) as tf.Scalar,
      data: (step) => trainSet.batch(step),
      steps: epochs * trainSet.stepsPerEpoch,
      seed: options.seed,
      validation: {
        every: trainSet.stepsPerEpoch,
        fn: () => {
          const v = evaluateClassifier(predict, valSet);
          return { val_loss: v.loss, val_accuracy: v.accuracy };
        },
      },
      earlyStopping,
      checkpointEvery: 10 * trainSet.stepsPerEpoch,
      run,
      config,
      label: kind,
      progress: options.progress,
    });
    log(
      `\n${kind}: ${regularized ? `dropout ${dropout} + early stopping (patience ${earlyStopping!.patience})` : 'no regularisation'}`,
    );
    const result = await trainer.fit();
    const final = evaluateClassifier(predict, valSet);
    const train = evaluateClassifier(predict, trainSet);
    const best = result.validations.reduce((a, b) => (b.val_loss < a.val_loss ? b : a));
    const summary: DemoRunSummary = {
      steps: result.step,
      stoppedEarly: result.stoppedEarly,
      weightsFromStep: result.weightsFromStep,
      bestValLoss: best.val_loss,
      bestValLossStep: best.step,
      finalValLoss: result.validations[result.validations.length - 1].val_loss,
      valLoss: final.loss,
      valAccuracy: final.accuracy,
      trainLoss: train.loss,
      seconds: result.seconds,
    };
    run.finish('completed', summary as unknown as Record<string, unknown>);
    const c = curves(result);
    const plot = await writeLossPlot(
      {
        title: `${kind === 'plain' ? 'No regularisation' : `Dropout ${dropout} + early stopping`}: MLP on ${trainSize} Fashion-MNIST images`,
        series: [
          { name: 'train', points: c.train },
          { name: 'validation', points: c.validation },
        ],
        yLabel: 'cross-entropy loss',
      },
      parent.output(`${kind}-loss`),
    );
    model.dispose();
    return { summary, plot };
  };

  const plain = await trainOne('plain');
  const regularized = await trainOne('regularized');
  const result: DemoResult = {
    dir: parent.dir,
    plain: plain.summary,
    regularized: regularized.summary,
    plots: [plain.plot.svg, plain.plot.png, regularized.plot.svg, regularized.plot.png],
  };
  parent.finish('completed', {
    plain: plain.summary,
    regularized: regularized.summary,
    plots: result.plots.map((p) => path.relative(parent.dir, p)),
  });
  return result;
}

/** The human summary printed at the end of the demo. */
export function describeDemo(r: DemoResult): string {
  const p = r.plain;
  const g = r.regularized;
  const lines = [
    '',
    'Validation results',
    `  no regularisation:          accuracy ${(p.valAccuracy * 100).toFixed(1)}%  loss ${p.valLoss.toFixed(3)}  (train loss ${p.trainLoss.toFixed(3)})`,
    `  dropout + early stopping:   accuracy ${(g.valAccuracy * 100).toFixed(1)}%  loss ${g.valLoss.toFixed(3)}  (train loss ${g.trainLoss.toFixed(3)})`,
    '',
    p.finalValLoss > p.bestValLoss
      ? `Without regularisation the validation loss bottomed at ${p.bestValLoss.toFixed(3)} (step ${p.bestValLossStep}) and then rose to ${p.finalValLoss.toFixed(3)} by step ${p.steps} while the training loss fell to ${p.trainLoss.toFixed(3)}: overfitting.`
      : `Without regularisation the validation loss did not rise this time (best ${p.bestValLoss.toFixed(3)}, final ${p.finalValLoss.toFixed(3)}).`,
    g.stoppedEarly
      ? `Early stopping stopped at step ${g.steps} and restored the weights of step ${g.weightsFromStep} (validation loss ${g.bestValLoss.toFixed(3)}).`
      : `Early stopping never triggered; the regularised run went all ${g.steps} steps.`,
    `Plots: ${r.plots.filter((f) => f.endsWith('.png')).join(', ')}`,
    `Run folder: ${r.dir}`,
  ];
  return lines.join('\n');
}
