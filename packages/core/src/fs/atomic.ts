/**
 * Writing files so that readers never see half of one: write a temporary file beside the target,
 * flush it, then rename it over the target (rename is atomic within one file system).
 * A crash leaves either the old file or the new one, plus at most a stray temporary file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A temporary name beside `path`. The random part lets two processes write the same target at
 * once without clobbering each other's temporary file.
 */
export function tempPathFor(path: string): string {
  return `${path}.part-${randomBytes(6).toString('hex')}`;
}

/** Writes `content` to `path` atomically, creating the parent folder. On failure `path` is left as it was. */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** The synchronous twin of {@link writeFileAtomic}, for run.json and checkpoint files. */
export function writeFileAtomicSync(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = tempPathFor(path);
  try {
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
