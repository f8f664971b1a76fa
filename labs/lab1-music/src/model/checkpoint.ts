import { BadFileError, disposeCheckpoint, loadCheckpoint, resolveCheckpoint, restoreWeights } from '@introdl/core';
import { Vocabulary } from '../data/vocab.js';
import { MusicModel, type MusicModelConfig } from './music-model.js';

/** The name this lab writes into run folders and checkpoint configs. */
export const LAB = 'lab1-music';

/** What a training run records in run.json and every checkpoint: enough to rebuild the model and its data. */
export interface MusicRunConfig {
  lab: typeof LAB;
  preset: string;
  model: MusicModelConfig;
  /** The vocabulary's characters in index order. */
  vocab: string;
  steps: number;
  batchSize: number;
  seqLength: number;
  learningRate: number;
  checkpointEvery: number;
  validateEvery: number;
  /** The held-out split, so `evaluate` measures on the same tunes. */
  heldOutFraction: number;
  splitSeed: number;
  /** The corpus file the run trained on. */
  corpus: string;
}

/** A model restored from a checkpoint. */
export interface LoadedMusicModel {
  model: MusicModel;
  vocab: Vocabulary;
  config: MusicRunConfig;
  step: number;
  /** The checkpoint folder read. */
  dir: string;
}

/** The config of a checkpoint, checked to be one of this lab's music models. */
function musicConfig(dir: string, config: Record<string, unknown> | undefined): MusicRunConfig {
  const where = `${dir}/state.json`;
  if (!config || config.lab !== LAB) {
    throw new BadFileError(
      where,
      `is not a Lab 1 music model checkpoint (its config says lab ${JSON.stringify(config?.lab ?? null)}); pass a run folder written by \`introdl lab1 train\``,
    );
  }
  const c = config as unknown as MusicRunConfig;
  const m = c.model;
  if (!m || ![m.vocabSize, m.embeddingDim, m.units].every((n) => Number.isInteger(n) && n > 0)) {
    throw new BadFileError(where, 'has no valid model sizes (model.vocabSize, embeddingDim, units)');
  }
  if (typeof c.vocab !== 'string' || [...c.vocab].length !== m.vocabSize || new Set(c.vocab).size !== m.vocabSize) {
    throw new BadFileError(where, `its vocabulary does not have the model's ${m.vocabSize} distinct characters`);
  }
  return c;
}

/**
 * Rebuilds the model of a checkpoint (a run folder's latest, or one `checkpoints/<step>` folder)
 * and loads its weights. A checkpoint of another lab, another model size or a broken file is a
 * {@link BadFileError} that names the file and what differs.
 */
export function loadMusicModel(checkpoint: string): LoadedMusicModel {
  const dir = resolveCheckpoint(checkpoint);
  const data = loadCheckpoint(dir);
  try {
    const config = musicConfig(dir, data.config);
    const model = new MusicModel(config.model);
    try {
      restoreWeights(dir, data.weights, model.variables());
    } catch (error) {
      model.dispose();
      throw error;
    }
    return { model, vocab: Vocabulary.fromString(config.vocab), config, step: data.step, dir };
  } finally {
    disposeCheckpoint(data);
  }
}
