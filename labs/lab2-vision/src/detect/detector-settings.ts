import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError } from '@introdl/core';

/**
 * The detector settings a training run calibrated for its final model (`outputs/detector.json`,
 * written by `introdl lab2 train` from the validation set): the window threshold and the face's
 * share of a window. A checkpoint other than the one they were calibrated on, or a run without
 * them, gets the classifier's own boundary (0.5) and the window as the box.
 */

export interface DetectorSettings {
  threshold: number;
  faceScale: number;
  /** Where the threshold came from, for logs and reports. */
  source: string;
}

/** The run folder a checkpoint folder belongs to (`<run>/checkpoints/<step>`), or undefined. */
export function runDirOf(checkpointDir: string): string | undefined {
  const parent = path.dirname(checkpointDir);
  return path.basename(parent) === 'checkpoints' ? path.dirname(parent) : undefined;
}

/** Settings for the model loaded from `checkpointDir` at `step`. */
export function detectorSettings(checkpointDir: string, step: number): DetectorSettings {
  const run = runDirOf(checkpointDir);
  const file = run && path.join(run, 'outputs', 'detector.json');
  const fallback = { threshold: 0.5, faceScale: 1 };
  if (!file || !existsSync(file)) return { ...fallback, source: 'P(face) ≥ 0.5 (the run has no calibrated threshold)' };
  let saved: {
    step?: number;
    threshold?: number;
    faceScale?: number;
    calibration?: { faces?: number; nonFaces?: number };
  };
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new BadFileError(file, 'is not valid JSON');
  }
  if (typeof saved.threshold !== 'number' || !(saved.threshold > 0 && saved.threshold <= 1))
    throw new BadFileError(file, `has no threshold in (0, 1] (got ${JSON.stringify(saved.threshold)})`);
  const faceScale = typeof saved.faceScale === 'number' && saved.faceScale > 0 ? saved.faceScale : 1;
  if (saved.step !== step)
    return {
      threshold: 0.5,
      faceScale,
      source: `P(face) ≥ 0.5 (${file} was calibrated for step ${saved.step}, this checkpoint is step ${step})`,
    };
  const c = saved.calibration;
  return {
    threshold: saved.threshold,
    faceScale,
    source: `calibrated on ${c?.faces ?? '?'} validation faces and ${c?.nonFaces ?? '?'} face-free windows (${file})`,
  };
}
