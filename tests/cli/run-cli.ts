import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
/** The built `introdl` binary, as npm links it. */
export const BIN = path.join(path.dirname(require.resolve('introdl/package.json')), 'dist', 'bin.js');

/** Runs `introdl …` in a child process, as a user would, and returns its exit code and output. */
export function introdl(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeout?: number } = {},
) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    timeout: options.timeout ?? 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, all: r.stdout + r.stderr };
}
