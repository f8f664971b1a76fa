import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadFlagError } from '../errors.js';
import { tempPathFor } from '../fs/atomic.js';

/**
 * Writes an exported model folder all at once: `build` fills a temporary folder beside `out`, which
 * is renamed to `out` only when it succeeded, so a failed or interrupted export leaves no half-written
 * model. An `out` that already holds files is a flag error (nothing is overwritten).
 */
export async function writeExportFolder<T>(out: string, build: (dir: string) => Promise<T> | T): Promise<T> {
  const target = path.resolve(out);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory() || readdirSync(target).length > 0)
      throw new BadFlagError(`--out ${out} already exists and is not empty; pass a new folder`);
    rmSync(target, { recursive: true });
  }
  const temp = tempPathFor(target);
  try {
    const result = await build(temp);
    renameSync(temp, target);
    return result;
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
}
