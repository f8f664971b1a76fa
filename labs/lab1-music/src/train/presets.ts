import { BadFlagError } from '@introdl/core';
import { COURSE_MODEL, type MusicModelConfig } from '../model/music-model.js';

/** The hyper-parameters of a training run. */
export interface TrainingPreset {
  steps: number;
  batchSize: number;
  seqLength: number;
  learningRate: number;
  embeddingDim: number;
  units: number;
  checkpointEvery: number;
  /** Held-out loss every this many steps (and at the end). */
  validateEvery: number;
  /** At most this many held-out windows per validation (the evaluate command reads them all). */
  validationWindows: number;
}

/**
 * - `course`: the course's run (2024 onward): 3000 iterations of batch 8 × 100 characters, Adam
 *   5e-3, Embedding 256 → LSTM 1024, a checkpoint every 100 iterations.
 * - `quick`: sized to finish within 15 minutes on a 2-core CPU with the wasm backend and still write
 *   songs that parse: a smaller LSTM sees more characters per second.
 * - `custom`: the course's values, changed by flags.
 */
export const PRESETS: Record<'course' | 'quick' | 'custom', TrainingPreset> = {
  course: {
    steps: 3000,
    batchSize: 8,
    seqLength: 100,
    learningRate: 5e-3,
    embeddingDim: COURSE_MODEL.embeddingDim,
    units: COURSE_MODEL.units,
    checkpointEvery: 100,
    validateEvery: 100,
    validationWindows: 64,
  },
  quick: {
    steps: 800,
    batchSize: 32,
    seqLength: 100,
    learningRate: 1e-2,
    embeddingDim: 64,
    units: 256,
    checkpointEvery: 100,
    validateEvery: 100,
    validationWindows: 64,
  },
  custom: {
    steps: 3000,
    batchSize: 8,
    seqLength: 100,
    learningRate: 5e-3,
    embeddingDim: COURSE_MODEL.embeddingDim,
    units: COURSE_MODEL.units,
    checkpointEvery: 100,
    validateEvery: 100,
    validationWindows: 64,
  },
};

export type PresetName = keyof typeof PRESETS;

/** The preset's values with the given overrides; only `custom` may be overridden. */
export function resolvePreset(name: string, overrides: Partial<TrainingPreset> = {}): TrainingPreset {
  if (!(name in PRESETS)) throw new BadFlagError(`unknown preset "${name}": use course, quick or custom`);
  const given = Object.entries(overrides).filter(([, v]) => v !== undefined);
  if (name !== 'custom' && given.length > 0) {
    throw new BadFlagError(
      `--preset ${name} fixes its hyper-parameters; use --preset custom to set ${given.map(([k]) => flagName(k)).join(', ')}`,
    );
  }
  const preset = { ...PRESETS[name as PresetName], ...Object.fromEntries(given) } as TrainingPreset;
  for (const [key, value] of Object.entries(preset)) {
    const ok = key === 'learningRate' ? value > 0 && Number.isFinite(value) : Number.isInteger(value) && value > 0;
    if (!ok)
      throw new BadFlagError(
        `${flagName(key)} must be a positive ${key === 'learningRate' ? 'number' : 'integer'}, got ${value}`,
      );
  }
  return preset;
}

/** The model sizes of a preset for a vocabulary. */
export function presetModel(preset: TrainingPreset, vocabSize: number): MusicModelConfig {
  return { vocabSize, embeddingDim: preset.embeddingDim, units: preset.units };
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
