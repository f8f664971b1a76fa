import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '@introdl/core';

/** A fresh temporary folder for one test's fixtures. */
export function tmpDir(prefix = 'lab3-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Uses tfjs's cpu backend (deterministic, available everywhere). */
export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Largest |a[i] − b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Logits [T·V] of one sequence from the tfjs model. */
export function modelLogits(model: { forward: (ids: tf.Tensor2D) => tf.Tensor3D }, ids: number[]): Float32Array {
  return tf.tidy(() => model.forward(tf.tensor2d(ids, [1, ids.length], 'int32'))).dataSync() as Float32Array;
}
