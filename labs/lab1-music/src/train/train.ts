import path from 'node:path';
import {
  Adam,
  BadFileError,
  BadFlagError,
  disposeCheckpoint,
  loadCheckpoint,
  type ProgressOptions,
  Rng,
  RunFolder,
  resolveCheckpoint,
  Trainer,
  type tf,
} from '@introdl/core';
import { batchTensors, getBatch } from '../data/batches.js';
import { loadCorpus } from '../data/dataset.js';
import { joinSongs } from '../data/songs.js';
import { splitSongs } from '../data/split.js';
import { Vocabulary, vectorize } from '../data/vocab.js';
import { LAB, type MusicRunConfig } from '../model/checkpoint.js';
import { heldOutLoss } from '../model/held-out.js';
import { computeLoss } from '../model/loss.js';
import { MusicModel } from '../model/music-model.js';
import { writeRunLossPlot } from './loss-plot.js';
import { presetModel, resolvePreset, type TrainingPreset } from './presets.js';

/** Options of {@link trainMusicModel}. */
export interface TrainOptions {
  preset: string;
  /** Hyper-parameters that `--preset custom` changes. */
  overrides?: Partial<TrainingPreset>;
  seed: number;
  /** The run folder to write (default runs/lab1-music/<time>). */
  out?: string;
  /** A run folder to continue from its latest checkpoint, with its own configuration. */
  resume?: string;
  /** An ABC file or a folder with irish.abc (default: INTRODL_DATA, the cache, a download). */
  dataPath?: string;
  download?: boolean;
  /** Share of whole tunes held out for the validation loss. */
  heldOutFraction?: number;
  /** Seeds the held-out split (fixed by default so every run holds out the same tunes). */
  splitSeed?: number;
  backend?: string;
  device?: string;
  progress?: ProgressOptions['mode'];
  log?: (message: string) => void;
}

/** What a training run ends with. */
export interface TrainSummary {
  dir: string;
  step: number;
  /** Mean training loss of the last (up to) 50 steps. */
  trainLoss: number;
  heldOutLoss: number;
  seconds: number;
  params: number;
  plot?: string;
}

/** The configuration of the run to continue, from its latest checkpoint. */
function resumedConfig(runDir: string): MusicRunConfig {
  const dir = resolveCheckpoint(runDir);
  const data = loadCheckpoint(dir);
  disposeCheckpoint(data);
  const config = data.config as MusicRunConfig | undefined;
  if (config?.lab !== LAB)
    throw new BadFileError(
      dir,
      'is not a Lab 1 music training checkpoint; --resume takes a run folder of `introdl lab1 train`',
    );
  return config;
}

/**
 * Trains the music model through core's Trainer: random batches of the training tunes, Adam, the
 * held-out loss every `validateEvery` steps, a progress line, log.jsonl, atomic checkpoints and
 * exact resume; at the end a loss plot (train and held-out) in outputs/.
 */
export async function trainMusicModel(options: TrainOptions): Promise<TrainSummary> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const resumed = options.resume ? resumedConfig(options.resume) : undefined;
  if (resumed && options.overrides && Object.values(options.overrides).some((v) => v !== undefined)) {
    throw new BadFlagError('--resume continues a run with its own hyper-parameters; drop the other training flags');
  }
  const preset: TrainingPreset = resumed
    ? {
        ...resolvePreset('custom'),
        ...resumed,
        embeddingDim: resumed.model.embeddingDim,
        units: resumed.model.units,
        validationWindows: 64,
      }
    : resolvePreset(options.preset, options.overrides);

  const corpus = await loadCorpus({ path: options.dataPath, download: options.download });
  const vocab = Vocabulary.fromText(joinSongs(corpus.songs));
  if (resumed && resumed.vocab !== vocab.toString()) {
    throw new BadFileError(
      options.resume!,
      `was trained on another vocabulary (${[...resumed.vocab].length} characters, this corpus has ${vocab.size}); resume it with the corpus it was trained on`,
    );
  }
  const heldOutFraction = resumed?.heldOutFraction ?? options.heldOutFraction ?? 0.1;
  const splitSeed = resumed?.splitSeed ?? options.splitSeed ?? 0;
  const split = splitSongs(corpus.songs, heldOutFraction, splitSeed);
  const trainVec = vectorize(joinSongs(split.train), vocab);
  const heldOutVec = vectorize(joinSongs(split.heldOut), vocab);
  log(
    `corpus ${corpus.file} (${corpus.source}): ${corpus.songs.length} songs, ${vocab.size} symbols; ` +
      `training on ${split.train.length} songs (${trainVec.length.toLocaleString('en-US')} chars), ` +
      `held out ${split.heldOut.length} (${heldOutVec.length.toLocaleString('en-US')} chars)`,
  );

  const config: MusicRunConfig = {
    lab: LAB,
    preset: resumed?.preset ?? options.preset,
    model: presetModel(preset, vocab.size),
    vocab: vocab.toString(),
    steps: preset.steps,
    batchSize: preset.batchSize,
    seqLength: preset.seqLength,
    learningRate: preset.learningRate,
    checkpointEvery: preset.checkpointEvery,
    validateEvery: preset.validateEvery,
    heldOutFraction,
    splitSeed,
    corpus: corpus.file,
  };
  const model = new MusicModel(config.model, new Rng(options.seed));
  log(
    `model: ${model.countParams().toLocaleString('en-US')} parameters (Embedding ${config.model.embeddingDim} → LSTM ${config.model.units} → Dense ${vocab.size})`,
  );
  const run = RunFolder.create({
    lab: LAB,
    command: `introdl lab1 train --preset ${config.preset}`,
    config: config as unknown as Record<string, unknown>,
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.resume ? path.resolve(options.resume) : options.out,
    reuse: Boolean(options.resume),
  });
  const trainer = new Trainer({
    model,
    optimizer: new Adam(config.learningRate),
    loss: (batch: { x: tf.Tensor; y: tf.Tensor }) => computeLoss(batch.y, model.apply(batch.x)),
    data: (_step, rng) => batchTensors(getBatch(trainVec, config.seqLength, config.batchSize, rng)),
    steps: config.steps,
    seed: options.seed,
    validation: {
      every: config.validateEvery,
      fn: async () => ({
        val_loss: (
          await heldOutLoss(model, heldOutVec, { seqLength: config.seqLength, maxWindows: preset.validationWindows })
        ).loss,
      }),
    },
    checkpointEvery: config.checkpointEvery,
    run,
    config: config as unknown as Record<string, unknown>,
    progress: options.progress,
    label: 'lab1',
  });
  if (options.resume) log(`resuming ${run.dir} from step ${trainer.resumeFrom(run.dir)}`);
  log(`run folder ${run.dir}`);
  try {
    const result = await trainer.fit();
    const last = result.losses.slice(-50);
    const trainLoss = last.length ? last.reduce((a, l) => a + l.loss, 0) / last.length : Number.NaN;
    const heldOut = result.validations.at(-1)?.val_loss ?? Number.NaN;
    const plot = await writeRunLossPlot(
      run.logPath,
      run.output('loss'),
      `Lab 1 music model (${config.preset}): loss per character`,
    );
    const summary: TrainSummary = {
      dir: run.dir,
      step: result.step,
      trainLoss,
      heldOutLoss: heldOut,
      seconds: result.seconds,
      params: model.countParams(),
      plot: plot?.png,
    };
    run.finish('completed', {
      step: result.step,
      trainLoss,
      heldOutLoss: heldOut,
      seconds: result.seconds,
      plot: plot && path.relative(run.dir, plot.png),
    });
    return summary;
  } catch (error) {
    if (run.info.status === 'running') run.finish('failed', undefined, (error as Error).message);
    throw error;
  } finally {
    model.dispose();
  }
}
