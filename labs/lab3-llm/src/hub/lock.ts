import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

/**
 * A lock file so that two introdl processes do not download the same blob at once (huggingface_hub
 * uses `.locks/<repo>/<etag>.lock` with an OS file lock; Node has none, so ours holds the owner's
 * pid and is taken over when that process is gone). Python leaves its lock files behind empty:
 * those hold no pid and are taken over too.
 */

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` holding the lock `file`, waiting (up to `waitMs`) while a live process holds it. */
export async function withLock<T>(file: string, fn: () => Promise<T>, waitMs = 30 * 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let owner = 0;
      try {
        owner = Number(readFileSync(file, 'utf8').trim());
      } catch {
        continue; // removed meanwhile
      }
      if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() - start > waitMs) {
        throw new Error(`${file} is held by process ${owner} (another download of the same file)`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  }
}
