import { BadFlagError } from '@introdl/core';

/**
 * The learning rate over training: a linear warm-up from near zero to the peak, then a cosine decay
 * to `finalFraction` of the peak at the last update (or the peak held, `constant`). Warm-up keeps
 * the first updates, taken with Lion's full-size sign steps on a freshly initialised adapter, from
 * overshooting; the decay lets the last updates settle instead of bouncing around the minimum.
 */
export interface LearningRateSchedule {
  kind: 'cosine' | 'constant';
  /** The learning rate after warm-up. */
  peak: number;
  /** Updates of linear warm-up (0 = none). */
  warmup: number;
  /** The last update of the run: where the cosine ends. */
  total: number;
  /** The learning rate at `total`, as a fraction of the peak (cosine only). */
  finalFraction: number;
}

/** Checks a schedule, naming the flag at fault. */
export function checkSchedule(s: LearningRateSchedule): LearningRateSchedule {
  if (!(s.peak > 0 && Number.isFinite(s.peak))) throw new BadFlagError(`--lr must be positive, got ${s.peak}`);
  if (!(Number.isInteger(s.warmup) && s.warmup >= 0)) throw new BadFlagError(`--warmup must be an integer ≥ 0`);
  if (!(s.finalFraction >= 0 && s.finalFraction <= 1))
    throw new BadFlagError(`--final-lr must be a fraction of --lr in [0, 1], got ${s.finalFraction}`);
  return s;
}

/** The learning rate of update `update` (1-based). */
export function learningRateAt(s: LearningRateSchedule, update: number): number {
  if (s.warmup > 0 && update <= s.warmup) return (s.peak * update) / s.warmup;
  if (s.kind === 'constant') return s.peak;
  const span = Math.max(1, s.total - s.warmup);
  const progress = Math.min(1, Math.max(0, (update - s.warmup) / span));
  const floor = s.peak * s.finalFraction;
  return floor + (s.peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
