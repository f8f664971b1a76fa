import {
  Adam,
  binaryCrossEntropyFromLogits,
  Rng,
  RunFolder,
  Trainer,
  tf,
  writeFileAtomic,
  writeLossPlot,
} from '@introdl/core';
import { windowedLosses } from '../loss-curve.js';
import { buildModel } from '../model-store.js';
import type { DbVae } from './dbvae.js';
import { debiasingLoss, KL_WEIGHT } from './dbvae-losses.js';
import { FaceDataset } from './face-dataset.js';
import { faceProbabilities } from './face-input.js';
import { tensorToImages, writeImageRows } from './face-pictures.js';
import { trainingSampleProbabilities } from './resampling.js';

/**
 * Part 2's training: the standard CNN classifier (binary cross-entropy from logits) or the DB-VAE
 * (the debiasing loss, with the face sampling probabilities recomputed from the latent means at
 * the start of every epoch). Adam 5e-4, batch 32, 2 epochs of N // 32 steps, as in the course.
 */

export interface TrainFacesOptions {
  model: 'classifier' | 'dbvae';
  /** The face HDF5 file (train_face.h5 layout). */
  facesFile: string;
  epochs?: number;
  /** Overrides epochs × steps per epoch (quick runs and tests). */
  steps?: number;
  batchSize?: number;
  learningRate?: number;
  latentDim?: number;
  klWeight?: number;
  /** Adaptive resampling on (default) or off (a plain VAE-regularised classifier, for comparison). */
  resample?: boolean;
  /** Save reconstructions every this many steps (DB-VAE). */
  sampleEvery?: number;
  /** Images of the balanced training sample the final accuracy is measured on. */
  evalSample?: number;
  seed: number;
  out?: string;
  backend?: string;
  device?: string;
  log?: (m: string) => void;
  progress?: 'tty' | 'plain' | 'silent';
}

export interface TrainFacesResult {
  runDir: string;
  steps: number;
  trainSeconds: number;
  trainSampleAccuracy: number;
  resamplingRounds: number;
  reconstructions: string[];
}

/** Latent means of every face, in the dataset's face order, RGB /255 input (the course's TF form). */
export function latentMeans(dbvae: DbVae, data: FaceDataset, batchSize = 256): Float32Array {
  const d = dbvae.latentDim;
  const out = new Float32Array(data.faceCount * d);
  for (let start = 0; start < data.faceCount; start += batchSize) {
    const mu = tf.tidy(() => {
      const x = data.faceBatch(start, batchSize);
      return dbvae.encode(x).mu.dataSync() as Float32Array;
    });
    out.set(mu, start * d);
  }
  return out;
}

export async function trainFaces(options: TrainFacesOptions): Promise<TrainFacesResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const data = await FaceDataset.open(options.facesFile);
  const batchSize = options.batchSize ?? 32;
  const epochs = options.epochs ?? 2;
  const stepsPerEpoch = data.stepsPerEpoch(batchSize);
  const steps = options.steps ?? epochs * stepsPerEpoch;
  const learningRate = options.learningRate ?? 5e-4;
  const latentDim = options.latentDim ?? 100;
  const klWeight = options.klWeight ?? KL_WEIGHT;
  const resample = options.resample ?? true;
  const sampleEvery = options.sampleEvery ?? 100;
  log(
    `${options.facesFile}: ${data.size} images (${data.faceCount} faces, ${data.nonFaceCount} not); ${steps} steps of batch ${batchSize} (${stepsPerEpoch} a epoch)`,
  );

  const model = buildModel(options.model, { seed: options.seed, latentDim });
  const config: Record<string, unknown> = {
    model: options.model,
    facesFile: options.facesFile,
    images: data.size,
    faces: data.faceCount,
    epochs,
    steps,
    batchSize,
    optimizer: 'adam',
    learningRate,
    ...(options.model === 'dbvae' ? { latentDim, klWeight, resample } : {}),
  };
  const run = RunFolder.create({
    lab: 'lab2',
    command: `introdl lab2 train --model ${options.model}`,
    config,
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.out,
  });

  const dbvae = model.dbvae;
  let pFaces: Float64Array | undefined;
  let pEpoch = -1;
  let resamplingRounds = 0;
  const reconstructions: string[] = [];
  // Fixed faces to show reconstructions of, the same at every sample.
  const shown = data.faceIndices.slice(0, Math.min(8, data.faceCount));
  const shownX = tf.tensor4d(data.rgbFloats(shown), [shown.length, 64, 64, 3]);

  let pending: Promise<unknown> = Promise.resolve();
  const imagesOf = (indices: ArrayLike<number>) => {
    const x = tf.tensor4d(data.rgbFloats(indices), [indices.length, 64, 64, 3]);
    const images = tensorToImages(x);
    x.dispose();
    return images;
  };

  /** Runs synchronously (the Trainer asks for batches synchronously); pictures are written later. */
  const recomputeProbabilities = (epoch: number, step: number) => {
    const mu = latentMeans(dbvae!, data);
    const p = trainingSampleProbabilities(mu, data.faceCount, latentDim);
    pFaces = p;
    pEpoch = epoch;
    resamplingRounds++;
    let max = 0;
    let min = 1;
    for (const v of p) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    run.log({ step: step - 1, event: 'resampling', epoch: epoch + 1, pMax: max, pMin: min, ratio: max / min });
    log(`epoch ${epoch + 1}: face sampling probabilities recomputed (max/min ratio ${(max / min).toFixed(1)})`);
    const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]);
    const most = imagesOf(order.slice(0, 8).map((i) => data.faceIndices[i]));
    const least = imagesOf(order.slice(-8).map((i) => data.faceIndices[i]));
    const file = run.output('resampling', `epoch-${epoch + 1}.png`);
    pending = pending.then(() =>
      writeImageRows(
        [
          { label: 'most likely', images: most },
          { label: 'least likely', images: least },
        ],
        file,
        `Faces the DB-VAE samples most and least often (epoch ${epoch + 1})`,
      ),
    );
  };

  const optimizer = new Adam(learningRate);
  const trainer = new Trainer({
    model: model.trainable,
    optimizer,
    loss: (b: { x: tf.Tensor4D; y: tf.Tensor2D }, ctx) => {
      if (dbvae) {
        const out = dbvae.forward(b.x, { training: true, seed: ctx.rng.seed() });
        return debiasingLoss(b.x, out.recon, b.y, out.yLogit, out.mu, out.logsigma, klWeight).total;
      }
      const logits = model.layers!.apply(b.x, { training: true }) as tf.Tensor2D;
      return binaryCrossEntropyFromLogits(b.y, logits) as tf.Scalar;
    },
    data: (step, rng) => {
      const epoch = Math.floor((step - 1) / stepsPerEpoch);
      if (dbvae && resample && epoch !== pEpoch) recomputeProbabilities(epoch, step);
      const batch = data.getBatch(batchSize, rng, { pPos: resample && dbvae && epoch === pEpoch ? pFaces : undefined });
      return { x: batch.x, y: batch.y };
    },
    steps,
    seed: options.seed,
    checkpointEvery: stepsPerEpoch,
    run,
    config,
    label: options.model,
    progress: options.progress,
    onStep: (step) => {
      if (dbvae && (step % sampleEvery === 0 || step === steps)) {
        const recon = dbvae.reconstruct(shownX);
        const images = { original: tensorToImages(shownX), recon: tensorToImages(recon) };
        recon.dispose();
        const file = run.output('reconstructions', `step-${String(step).padStart(6, '0')}.png`);
        reconstructions.push(file);
        pending = pending.then(() =>
          writeImageRows(
            [
              { label: 'original', images: images.original },
              { label: 'reconstruction', images: images.recon },
            ],
            file,
            `DB-VAE reconstructions at step ${step}`,
          ),
        );
      }
    },
  });

  try {
    const result = await trainer.fit();
    const allLosses = result.losses;
    const seconds = result.seconds;
    await pending;
    const sample = Math.min(options.evalSample ?? 1000, 2 * Math.min(data.faceCount, data.nonFaceCount));
    const evalBatch = data.getBatch(sample, new Rng(options.seed + 7));
    const faceLogit = model.faceLogit!;
    const p = faceProbabilities(faceLogit, evalBatch.x);
    const labels = evalBatch.y.dataSync();
    let correct = 0;
    for (let i = 0; i < p.length; i++) if (p[i] >= 0.5 === (labels[i] === 1)) correct++;
    tf.dispose([evalBatch.x, evalBatch.y]);
    const trainSampleAccuracy = correct / p.length;
    log(`accuracy on a balanced sample of ${p.length} training images: ${trainSampleAccuracy.toFixed(4)}`);
    await writeLossPlot(
      {
        title: `${options.model === 'dbvae' ? 'DB-VAE' : 'Standard CNN'}: training loss`,
        series: [{ name: 'train (mean per window)', points: windowedLosses(allLosses) }],
        xLabel: 'step',
        yLabel: options.model === 'dbvae' ? 'debiasing loss' : 'binary cross-entropy',
      },
      run.output('loss'),
    );
    const summary = {
      steps: result.step,
      trainSeconds: Number(seconds.toFixed(1)),
      trainSampleAccuracy,
      trainSampleSize: p.length,
      resamplingRounds,
    };
    await writeFileAtomic(run.output('metrics.json'), `${JSON.stringify({ ...config, ...summary }, null, 2)}\n`);
    run.finish('completed', summary);
    return {
      runDir: run.dir,
      steps: summary.steps,
      trainSeconds: seconds,
      trainSampleAccuracy,
      resamplingRounds,
      reconstructions,
    };
  } catch (err) {
    if (run.info.status === 'running') run.finish('failed', undefined, (err as Error).message);
    throw err;
  } finally {
    shownX.dispose();
    optimizer.dispose();
    model.dispose();
  }
}
