import { nativeAddon } from '@introdl/core';

/**
 * Below this hidden size every product of a training step is small (stories260K: 64 wide, at most
 * 512 rows), and OpenBLAS's worker threads cost more in hand-offs than they save.
 */
export const SINGLE_THREAD_MAX_HIDDEN = 256;

/**
 * Runs OpenBLAS on one thread when the model is small. Measured on this project's 2-core machine
 * with other work running (load 14–18), 30 stories260K updates: 1.33–1.36 s per update with
 * OpenBLAS's 2 threads, 0.43–0.50 s with 1, identical losses. Large models keep every thread.
 * Returns the thread count set, or undefined when nothing was changed (no native addon, or a large model).
 */
export function blasThreadsForModel(hiddenSize: number): number | undefined {
  const addon = nativeAddon() as { setThreads?: (threads: number) => void } | undefined;
  if (!addon?.setThreads || hiddenSize > SINGLE_THREAD_MAX_HIDDEN) return undefined;
  addon.setThreads(1);
  return 1;
}
