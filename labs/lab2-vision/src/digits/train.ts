import {
  Adam,
  GradientDescent,
  MiniBatches,
  type Optimizer,
  RunFolder,
  softmaxCrossEntropy,
  Trainer,
  type tf,
  writeFileAtomic,
  writeLossPlot,
} from '@introdl/core';
import { windowedLosses } from '../loss-curve.js';
import { buildModel } from '../model-store.js';
import { type DigitsData, type DigitsDataset, loadDigits } from './data.js';
import { evaluateDigits } from './evaluate.js';
import { writeTestGrid } from './grid-from-model.js';
import { countParameters, DIGIT_INPUT_SHAPE } from './models.js';

/**
 * Part 1's training: the FC model with the course's SGD 0.1, batch 64, 5 epochs; the CNN with the
 * TensorFlow version's Adam 1e-3, batch 64, 5 epochs (the PyTorch version's SGD 1e-2 for 7 epochs
 * is available through the flags). Writes a run folder with checkpoints, the loss log and plot, the
 * test metrics and the prediction grid.
 */

export interface TrainDigitsOptions {
  model: 'fc' | 'cnn';
  dataset?: DigitsDataset;
  dataDir?: string;
  epochs?: number;
  batchSize?: number;
  optimizer?: 'sgd' | 'adam';
  learningRate?: number;
  /** Use only the first N training / test images (quick runs and tests). */
  trainLimit?: number;
  testLimit?: number;
  seed: number;
  out?: string;
  backend?: string;
  device?: string;
  log?: (m: string) => void;
  progress?: 'tty' | 'plain' | 'silent';
}

export interface TrainDigitsResult {
  runDir: string;
  parameters: number;
  steps: number;
  trainSeconds: number;
  testAccuracy: number;
  testLoss: number;
  trainAccuracy: number;
  grid: string;
  wrongInGrid: number;
}

/** The course's defaults per model. */
export function digitDefaults(model: 'fc' | 'cnn') {
  return model === 'fc'
    ? { epochs: 5, batchSize: 64, optimizer: 'sgd' as const, learningRate: 0.1 }
    : { epochs: 5, batchSize: 64, optimizer: 'adam' as const, learningRate: 1e-3 };
}

function makeDigitOptimizer(name: 'sgd' | 'adam', lr: number): Optimizer {
  return name === 'sgd' ? new GradientDescent(lr) : new Adam(lr);
}

export async function trainDigits(options: TrainDigitsOptions): Promise<TrainDigitsResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const defaults = digitDefaults(options.model);
  const epochs = options.epochs ?? defaults.epochs;
  const batchSize = options.batchSize ?? defaults.batchSize;
  const optimizerName = options.optimizer ?? defaults.optimizer;
  const learningRate = options.learningRate ?? defaults.learningRate;
  const dataset = options.dataset ?? 'fashion-mnist';

  const train: DigitsData = await loadDigits({
    dataset,
    split: 'train',
    dir: options.dataDir,
    limit: options.trainLimit,
  });
  const test: DigitsData = await loadDigits({ dataset, split: 'test', dir: options.dataDir, limit: options.testLimit });
  log(`${dataset}: ${train.n} training and ${test.n} test images from ${train.files.images.replace(/[^/]*$/, '')}`);

  const model = buildModel(options.model, { seed: options.seed });
  const layers = model.layers!;
  const parameters = countParameters(layers);
  const batches = new MiniBatches(train.images, train.labels, DIGIT_INPUT_SHAPE, batchSize, options.seed);
  const steps = epochs * batches.stepsPerEpoch;
  const config = {
    model: options.model,
    dataset,
    parameters,
    epochs,
    batchSize,
    optimizer: optimizerName,
    learningRate,
    trainImages: train.n,
    testImages: test.n,
  };
  const run = RunFolder.create({
    lab: 'lab2-vision',
    command: `introdl lab2 train --model ${options.model}`,
    config,
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.out,
  });
  log(
    `${options.model}: ${parameters.toLocaleString('en-US')} parameters; ${optimizerName} lr ${learningRate}, batch ${batchSize}, ${epochs} epochs = ${steps} steps`,
  );

  const optimizer = makeDigitOptimizer(optimizerName, learningRate);
  const trainer = new Trainer({
    model: model.trainable,
    optimizer,
    loss: (b: { x: tf.Tensor; y: tf.Tensor }) =>
      softmaxCrossEntropy(b.y, layers.apply(b.x, { training: true }) as tf.Tensor) as tf.Scalar,
    data: (step) => batches.batch(step),
    steps,
    seed: options.seed,
    validation: {
      every: batches.stepsPerEpoch,
      fn: () => {
        const t = evaluateDigits(layers, test);
        return { test_loss: t.loss, test_accuracy: t.accuracy };
      },
    },
    checkpointEvery: batches.stepsPerEpoch,
    run,
    config,
    label: options.model,
    progress: options.progress,
  });
  try {
    const result = await trainer.fit();
    const testMetrics = evaluateDigits(layers, test);
    const trainMetrics = evaluateDigits(layers, train);
    const grid = await writeTestGrid(layers, test, run.output('predictions.png'), options.model.toUpperCase());
    await writeLossPlot(
      {
        title: `${options.model.toUpperCase()} on ${dataset}: training loss`,
        series: [{ name: 'train (mean per window)', points: windowedLosses(result.losses) }],
        xLabel: 'step',
        yLabel: 'cross-entropy',
      },
      run.output('loss'),
    );
    const summary = {
      parameters,
      steps: result.step,
      trainSeconds: Number(result.seconds.toFixed(1)),
      testAccuracy: testMetrics.accuracy,
      testLoss: testMetrics.loss,
      trainAccuracy: trainMetrics.accuracy,
      grid: 'outputs/predictions.png',
    };
    await writeFileAtomic(run.output('metrics.json'), `${JSON.stringify({ ...config, ...summary }, null, 2)}\n`);
    run.finish('completed', summary);
    return {
      runDir: run.dir,
      parameters,
      steps: result.step,
      trainSeconds: result.seconds,
      testAccuracy: testMetrics.accuracy,
      testLoss: testMetrics.loss,
      trainAccuracy: trainMetrics.accuracy,
      grid: grid.file,
      wrongInGrid: grid.wrong,
    };
  } catch (err) {
    if (run.info.status === 'running') run.finish('failed', undefined, (err as Error).message);
    throw err;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
