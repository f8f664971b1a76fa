import {
  allVariables,
  BadFileError,
  BadFlagError,
  disposeCheckpoint,
  loadCheckpoint,
  resolveCheckpoint,
  restoreWeights,
  type Trainable,
  type tf,
  trainableFromLayers,
} from '@introdl/core';
import { buildCnnModel, buildFcModel } from './digits/models.js';
import { makeStandardClassifier } from './faces/classifier.js';
import { DbVae, LATENT_DIM } from './faces/dbvae.js';

/**
 * The lab's four models by name, and loading a trained one back from a checkpoint: the checkpoint's
 * config says which model it is, the model is rebuilt and its weights (with BatchNorm's moving
 * statistics) restored.
 */

/** `train --model …`. */
export type ModelKind = 'fc' | 'cnn' | 'classifier' | 'dbvae';
export const MODEL_KINDS: readonly ModelKind[] = ['fc', 'cnn', 'classifier', 'dbvae'];

/** Parses `--model`. */
export function parseModelKind(value: unknown): ModelKind {
  const v = String(value ?? '');
  if ((MODEL_KINDS as readonly string[]).includes(v)) return v as ModelKind;
  throw new BadFlagError(`--model must be one of ${MODEL_KINDS.join(', ')}, got "${value}"`);
}

/** Whether a model kind is one of Part 1's 10-class image models. */
export function isDigitModel(kind: ModelKind): kind is 'fc' | 'cnn' {
  return kind === 'fc' || kind === 'cnn';
}

/** A built model, whichever kind. */
export interface LabModel {
  kind: ModelKind;
  trainable: Trainable;
  /** Part 1 models and the face classifier: the tfjs-layers model. */
  layers?: tf.Sequential;
  dbvae?: DbVae;
  /** Face models: the face logit of RGB [0, 1] images [n, 64, 64, 3], shape [n, 1]. */
  faceLogit?: (x: tf.Tensor4D) => tf.Tensor2D;
  dispose(): void;
}

/** Builds a fresh model (seeded initial weights). */
export function buildModel(kind: ModelKind, options: { seed?: number; latentDim?: number } = {}): LabModel {
  const seed = options.seed ?? 1;
  if (kind === 'dbvae') {
    const dbvae = new DbVae(options.latentDim ?? LATENT_DIM, seed);
    return { kind, trainable: dbvae, dbvae, faceLogit: (x) => dbvae.predict(x), dispose: () => dbvae.dispose() };
  }
  const layers =
    kind === 'fc' ? buildFcModel(seed) : kind === 'cnn' ? buildCnnModel(seed) : makeStandardClassifier(1, seed);
  const model: LabModel = { kind, trainable: trainableFromLayers(layers), layers, dispose: () => layers.dispose() };
  if (kind === 'classifier') model.faceLogit = (x) => layers.predict(x) as tf.Tensor2D;
  return model;
}

/** A model loaded from a checkpoint, with the checkpoint's folder, step and config. */
export interface LoadedModel extends LabModel {
  checkpoint: string;
  step: number;
  config: Record<string, unknown>;
}

/**
 * Loads the model saved in a checkpoint folder or run folder (its latest checkpoint).
 * @param expect which kinds the caller can use; anything else is a clear error.
 */
export function loadModel(checkpointPath: string, expect: readonly ModelKind[] = MODEL_KINDS): LoadedModel {
  const dir = resolveCheckpoint(checkpointPath);
  const data = loadCheckpoint(dir);
  try {
    const config = data.config ?? {};
    const kind = config.model as ModelKind | undefined;
    if (!kind || !MODEL_KINDS.includes(kind))
      throw new BadFileError(
        dir,
        `is not a Lab 2 checkpoint (its config names no model among ${MODEL_KINDS.join(', ')})`,
      );
    if (!expect.includes(kind))
      throw new BadFlagError(`${dir} holds a "${kind}" model; this command needs ${expect.join(' or ')}`);
    const model = buildModel(kind, { latentDim: Number(config.latentDim ?? LATENT_DIM) });
    restoreWeights(dir, data.weights, allVariables(model.trainable));
    return { ...model, checkpoint: dir, step: data.step, config };
  } finally {
    disposeCheckpoint(data);
  }
}
