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
import { type Calibration, type CalibrationOptions, calibrateThreshold } from './calibrate-threshold.js';
import type { DbVae } from './dbvae.js';
import { debiasingLoss, KL_WEIGHT } from './dbvae-losses.js';
import { FaceDataset } from './face-dataset.js';
import { faceProbabilities, faceProbabilities64 } from './face-input.js';
import { tensorToImages, writeImageRows } from './face-pictures.js';
import {
  initialNegativeWeights,
  type MiningOptions,
  type MiningRound,
  minedNegativeWeights,
  poolMask,
  poolPositions,
  scoreNonFaces,
} from './hard-negatives.js';
import { RESAMPLING_BINS, trainingSampleProbabilities } from './resampling.js';

/**
 * Part 2's training: the standard CNN classifier (binary cross-entropy from logits) or the DB-VAE
 * (the debiasing loss, with the face sampling probabilities recomputed from the latent means at
 * the start of every epoch). Adam 5e-4, batch 32, 2 epochs of N // 32 steps, as in the course.
 *
 * On a file from build-dataset two things are added, both of which a real sliding-window detector
 * needs: hard-negative mining over the file's mining pool at the start of every epoch after the
 * first (see hard-negatives.ts), and, at the end, the detector's threshold calibrated on the
 * file's validation set (people held out of training), written to `outputs/detector.json`. The
 * file's person split is copied into the run's config, so `evaluate` knows which people the model
 * never saw.
 */

export interface TrainFacesOptions {
  model: 'classifier' | 'dbvae';
  /** The face HDF5 file (train_face.h5 layout). */
  facesFile: string;
  epochs?: number;
  /** Overrides epochs × steps per epoch (quick runs and tests). */
  steps?: number;
  batchSize?: number;
  /** Adam's peak learning rate (default 5e-4, the course's). */
  learningRate?: number;
  /**
   * `cosine` (default): the learning rate falls from its peak along a half cosine to
   * `finalLearningRate` of it at the last step; `constant`: the course's.
   */
  schedule?: 'cosine' | 'constant';
  /** Where the cosine ends, as a fraction of the peak (default 0.05). */
  finalLearningRate?: number;
  latentDim?: number;
  klWeight?: number;
  /** Adaptive resampling on (default) or off (a plain VAE-regularised classifier, for comparison). */
  resample?: boolean;
  /** The resampling histogram's smoothing (default {@link DBVAE_SMOOTHING}; the course's is 0.001). */
  smoothing?: number;
  /** Save reconstructions every this many steps (DB-VAE). */
  sampleEvery?: number;
  /** Images of the balanced training sample the final accuracy is measured on. */
  evalSample?: number;
  /** Hard-negative mining over the file's mining pool (default on); false turns it off. */
  mining?: MiningOptions | false;
  /** How the detector threshold is calibrated on the validation set. */
  calibration?: CalibrationOptions;
  seed: number;
  out?: string;
  backend?: string;
  device?: string;
  log?: (m: string) => void;
  progress?: 'tty' | 'plain' | 'silent';
}

/**
 * The DB-VAE's resampling smoothing. The course's 0.001 put 40–60% of the draws on the 10% of
 * faces drawn most (up to 1,100 times as often as the least), and those were not the faces the
 * model found hard (their mean P(face) was higher than the rest's): the debiased model trained on
 * a much smaller set of faces, and did worse on the validation people. 0.05 still draws rare
 * faces more often (the top 10% get about 15% of the draws) and did better on every validation
 * measure (chosen on the validation sets only; see docs/lab2.md).
 */
export const DBVAE_SMOOTHING = 0.05;

export interface TrainFacesResult {
  runDir: string;
  steps: number;
  trainSeconds: number;
  trainSampleAccuracy: number;
  resamplingRounds: number;
  reconstructions: string[];
  miningRounds: MiningRound[];
  /**
   * Accuracy at P ≥ 0.5 on the validation set (held-out people), when the file has one; with
   * `occluded`, the recall on the same people's faces wearing painted accessories.
   */
  validation?: {
    faces: number;
    nonFaces: number;
    faceAccuracy: number;
    nonFaceAccuracy: number;
    occluded?: { faces: number; recall: number; meanP: number };
  };
  calibration?: Calibration;
}

/**
 * The face's side as a share of a detector window's, for a model trained on this file: build-dataset
 * frames faces with a margin drawn log-uniformly from a range, so the typical window is the
 * range's geometric mean times the face (1 when the file does not say, e.g. the course's file).
 */
function faceScaleOf(data: FaceDataset): number {
  if (typeof data.attributes.provenance !== 'string') return 1;
  const margin = (JSON.parse(data.attributes.provenance) as { positives?: { framing?: { margin?: number[] } } })
    .positives?.framing?.margin;
  return Array.isArray(margin) && margin.length === 2 ? 1 / Math.sqrt(margin[0] * margin[1]) : 1;
}

/** The split build-dataset recorded (London people and held-out photos), if the file has one. */
function recordedSplit(attributes: Record<string, unknown>): Record<string, unknown> | undefined {
  if (typeof attributes.split !== 'string') return undefined;
  const split = JSON.parse(attributes.split) as { london?: unknown; heldOutPhotos?: unknown };
  return { london: split.london, heldOutPhotos: split.heldOutPhotos };
}

/** Latent means of every face, in the dataset's face order, RGB /255 input (the course's TF form). */
export function latentMeans(dbvae: DbVae, data: FaceDataset, batchSize = 256): Float32Array {
  return encodeFaces(dbvae, data, batchSize).mu;
}

/** Latent means and face logits of every face, in the dataset's face order, from one encoder pass. */
export function encodeFaces(
  dbvae: DbVae,
  data: FaceDataset,
  batchSize = 256,
): { mu: Float32Array; logits: Float32Array } {
  const d = dbvae.latentDim;
  const mu = new Float32Array(data.faceCount * d);
  const logits = new Float32Array(data.faceCount);
  for (let start = 0; start < data.faceCount; start += batchSize) {
    const [m, y] = tf.tidy(() => {
      const out = dbvae.encode(data.faceBatch(start, batchSize));
      return [out.mu.dataSync() as Float32Array, out.yLogit.dataSync() as Float32Array];
    });
    mu.set(m, start * d);
    logits.set(y, start);
  }
  return { mu, logits };
}

/**
 * Whether resampling favours the faces the model finds hard: the share of the sampling mass on
 * the 10% of faces drawn most often (uniform sampling would give them 10%), and the mean P(face)
 * of those faces against the rest. A DB-VAE whose latent space captured what is rare should put
 * its weight on faces it is less sure of.
 */
export function resamplingFocus(
  p: Float64Array,
  logits: Float32Array,
): { topShare: number; topP: number; restP: number } {
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]);
  const k = Math.max(1, Math.round(order.length / 10));
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  let topShare = 0;
  let topP = 0;
  let restP = 0;
  order.forEach((i, rank) => {
    if (rank < k) {
      topShare += p[i];
      topP += sigmoid(logits[i]);
    } else restP += sigmoid(logits[i]);
  });
  return { topShare, topP: topP / k, restP: restP / Math.max(1, order.length - k) };
}

export async function trainFaces(options: TrainFacesOptions): Promise<TrainFacesResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const data = await FaceDataset.open(options.facesFile);
  const batchSize = options.batchSize ?? 32;
  const epochs = options.epochs ?? 3;
  const pool = poolMask(data);
  const poolSize = pool.reduce((a, v) => a + v, 0);
  // An epoch is the course's N // batch over the training images; the mining pool only joins
  // through the windows mined from it, so it does not lengthen the epochs.
  const stepsPerEpoch = Math.max(1, Math.floor((data.size - poolSize) / batchSize));
  const steps = options.steps ?? epochs * stepsPerEpoch;
  const learningRate = options.learningRate ?? 5e-4;
  const schedule = options.schedule ?? 'cosine';
  const finalLearningRate = options.finalLearningRate ?? 0.05;
  /**
   * Step `step`'s learning rate. Decaying it to a small fraction lets the last few hundred steps
   * settle into a minimum instead of jumping between the batches' (cheaper than averaging weights,
   * and a pure function of the step, so a resumed run is the same run).
   */
  const learningRateAt = (step: number) =>
    schedule === 'constant'
      ? learningRate
      : learningRate *
        (finalLearningRate +
          ((1 - finalLearningRate) * (1 + Math.cos((Math.PI * (step - 1)) / Math.max(1, steps - 1)))) / 2);
  const latentDim = options.latentDim ?? 100;
  const klWeight = options.klWeight ?? KL_WEIGHT;
  const resample = options.resample ?? true;
  const smoothing = options.smoothing ?? DBVAE_SMOOTHING;
  const sampleEvery = options.sampleEvery ?? 100;
  const mining = options.mining === false || poolSize === 0 ? undefined : (options.mining ?? {});
  let pNeg = initialNegativeWeights(pool);
  const miningRounds: MiningRound[] = [];
  let minedRound = 0;
  const poolAt = poolPositions(pool);
  const mined = new Uint8Array(pool.length);
  // Mining every half epoch from the middle of the first: the first half trains on the ordinary
  // non-faces alone, as the classic procedure does, then each round re-scans the pool.
  const miningEvery = Math.max(1, Math.floor(stepsPerEpoch / 2));
  log(
    `${options.facesFile}: ${data.size} images (${data.faceCount} faces, ${data.nonFaceCount} not, ${poolSize} of them the mining pool); ${steps} steps of batch ${batchSize} (${stepsPerEpoch} a epoch)`,
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
    schedule: schedule === 'cosine' ? { kind: 'cosine', finalFraction: finalLearningRate } : { kind: 'constant' },
    ...(options.model === 'dbvae' ? { latentDim, klWeight, resample, smoothing } : {}),
    miningPool: poolSize,
    ...(mining
      ? { mining: { above: mining.above ?? 0.3, share: mining.share ?? 0.35, maxBoost: mining.maxBoost ?? 20 } }
      : {}),
    split: recordedSplit(data.attributes),
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
    const { mu, logits } = encodeFaces(dbvae!, data);
    const p = trainingSampleProbabilities(mu, data.faceCount, latentDim, RESAMPLING_BINS, smoothing);
    const focus = resamplingFocus(p, logits);
    pFaces = p;
    pEpoch = epoch;
    resamplingRounds++;
    let max = 0;
    let min = 1;
    for (const v of p) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    run.log({
      step: step - 1,
      event: 'resampling',
      epoch: epoch + 1,
      pMax: max,
      pMin: min,
      ratio: max / min,
      ...focus,
    });
    log(
      `epoch ${epoch + 1}: face sampling probabilities recomputed (max/min ratio ${(max / min).toFixed(1)}; the 10% drawn most get ${(100 * focus.topShare).toFixed(1)}% of the draws, their mean P(face) ${focus.topP.toFixed(3)} against ${focus.restP.toFixed(3)} for the rest)`,
    );
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

  /**
   * Runs synchronously inside the batch function, like the resampling above. Each round scores the
   * pool (the detector's windows) afresh; the augmented training non-faces are drawn every epoch
   * anyway, and scoring them too would double the cost of a round.
   */
  const mine = (round: number, step: number) => {
    const scores = scoreNonFaces(model.faceLogit!, data, poolAt);
    const r = minedNegativeWeights(scores, pool, { ...mining, mined });
    pNeg = r.weights;
    minedRound = round;
    const record: MiningRound = {
      step: step - 1,
      scored: poolAt.length,
      hardTraining: r.hardTraining,
      hardPool: r.hardPool,
      hardShare: r.hardShare,
      maxP: r.maxP,
    };
    miningRounds.push(record);
    run.log({ ...record, event: 'hard-negative mining', round });
    log(
      `step ${step - 1}: hard-negative mining round ${round} scored ${poolAt.length} pool windows; ${r.hardPool} mined so far (at P ≥ ${mining!.above ?? 0.3} in this round or an earlier one) now make ${(100 * r.hardShare).toFixed(1)}% of the non-face draws (best P ${r.maxP.toFixed(3)})`,
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
      optimizer.learningRate = learningRateAt(step);
      const epoch = Math.floor((step - 1) / stepsPerEpoch);
      if (dbvae && resample && epoch !== pEpoch) recomputeProbabilities(epoch, step);
      // No round in the last stretch: its mined windows would never be trained on.
      const round = Math.floor((step - 1) / miningEvery);
      if (mining && round > minedRound && steps - step >= miningEvery / 2) mine(round, step);
      const batch = data.getBatch(batchSize, rng, {
        pPos: resample && dbvae && epoch === pEpoch ? pFaces : undefined,
        pNeg,
      });
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
    let validation: TrainFacesResult['validation'];
    let calibration: Calibration | undefined;
    if (await FaceDataset.hasSet(options.facesFile, 'validation')) {
      const val = await FaceDataset.open(options.facesFile, {
        images: 'validation_images',
        labels: 'validation_labels',
      });
      const x = tf.tensor4d(val.rgbFloats(Array.from({ length: val.size }, (_, i) => i)), [val.size, 64, 64, 3]);
      const pv = faceProbabilities64(faceLogit, x);
      x.dispose();
      const faceP = Array.from(val.faceIndices, (i) => pv[i]);
      const nonFaceP = Array.from(val.nonFaceIndices, (i) => pv[i]);
      validation = {
        faces: faceP.length,
        nonFaces: nonFaceP.length,
        faceAccuracy: faceP.filter((v) => v >= 0.5).length / Math.max(1, faceP.length),
        nonFaceAccuracy: nonFaceP.filter((v) => v < 0.5).length / Math.max(1, nonFaceP.length),
      };
      if (await FaceDataset.hasSet(options.facesFile, 'validation_occluded')) {
        const occ = await FaceDataset.open(options.facesFile, {
          images: 'validation_occluded_images',
          labels: 'validation_occluded_labels',
        });
        const xo = tf.tensor4d(occ.rgbFloats(Array.from({ length: occ.size }, (_, i) => i)), [occ.size, 64, 64, 3]);
        const po = Array.from(faceProbabilities64(faceLogit, xo));
        xo.dispose();
        validation.occluded = {
          faces: po.length,
          recall: po.filter((v) => v >= 0.5).length / Math.max(1, po.length),
          meanP: po.reduce((a, v) => a + v, 0) / Math.max(1, po.length),
        };
        log(
          `validation faces wearing painted accessories: ${(100 * validation.occluded.recall).toFixed(1)}% of ${po.length} at P ≥ 0.5 (mean P ${validation.occluded.meanP.toFixed(3)})`,
        );
      }
      calibration = calibrateThreshold(faceP, nonFaceP, options.calibration);
      log(
        `validation (people never trained on): faces ${validation.faceAccuracy.toFixed(3)} of ${faceP.length} at P ≥ 0.5, non-faces ${validation.nonFaceAccuracy.toFixed(3)} of ${nonFaceP.length} below; detector threshold ${calibration.threshold.toPrecision(6)} (${calibration.rule}: recall ${calibration.recall.toFixed(3)}, false positives ${(100 * calibration.falsePositiveRate).toFixed(2)}% of windows)`,
      );
      const detector = {
        step: result.step,
        threshold: calibration.threshold,
        faceScale: faceScaleOf(data),
        calibration,
      };
      await writeFileAtomic(run.output('detector.json'), `${JSON.stringify(detector, null, 2)}\n`);
    }
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
      miningRounds,
      validation,
      detectorThreshold: calibration?.threshold,
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
      miningRounds,
      validation,
      calibration,
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
