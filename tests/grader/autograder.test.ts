import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeAutograder } from '@introdl/grader';
import { afterAll, describe, expect, it } from 'vitest';
import schema from './gradescope-results.schema.json' with { type: 'json' };
import { validate } from './helpers/json-schema.js';
import { LAB0_DIR, lab0, removeTmpDirs, solvedWorkspace, tmp } from './helpers/lab0.js';
import { type LocalRegistry, startLocalRegistry } from './helpers/local-registry.js';

const isRoot = process.getuid?.() === 0;
const require = createRequire(import.meta.url);
const registries: LocalRegistry[] = [];

/** Runs a command without blocking this process's event loop. */
function runAsync(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeout: number,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, timeout });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('introdl grader autograder', () => {
  it('writes setup.sh, run_autograder, the packages and config', async () => {
    const out = path.join(tmp(), 'autograder');
    await writeAutograder(await lab0(), { out });
    expect(statSync(path.join(out, 'setup.sh')).mode & 0o111).not.toBe(0);
    expect(statSync(path.join(out, 'run_autograder')).mode & 0o111).not.toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(out, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['@introdl/core', '@introdl/grader', '@introdl/lab0-fixture']);
    for (const spec of Object.values(pkg.dependencies) as string[]) {
      expect(existsSync(path.join(out, spec.replace(/^file:/, '')))).toBe(true);
    }
    expect(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'))).toEqual({
      lab: 'lab0',
      package: '@introdl/lab0-fixture',
    });
    const run = readFileSync(path.join(out, 'run_autograder'), 'utf8');
    expect(run).toMatch(/^#!\/usr\/bin\/env bash/);
    expect(run).toContain('--results "$ROOT/results/results.json"');
  });

  // Installs the autograder as Gradescope would, with a real `npm install`, from a registry on
  // 127.0.0.1 that serves the packages installed here and an empty npm cache of its own: neither
  // the network nor this machine's npm cache is used. Then grades one submission with
  // run_autograder. Needs root (setup.sh creates a user, changes modes).
  it.skipIf(!isRoot)(
    'installed in a fake /autograder, run_autograder writes a valid results.json with full marks',
    async () => {
      const root = tmp('introdl-autograder-');
      await writeAutograder(await lab0(), { out: path.join(root, 'source') });
      await solvedWorkspace(path.join(root, 'work'));
      // Gradescope puts the uploaded files in /autograder/submission.
      cpSync(path.join(root, 'work', 'src'), path.join(root, 'submission', 'src'), { recursive: true });
      const packageDir = (name: string) => realpathSync(path.dirname(require.resolve(`${name}/package.json`)));
      const registry = await startLocalRegistry(
        [packageDir('@introdl/core'), packageDir('@introdl/grader'), LAB0_DIR],
        ['@types/node'],
        packageDir('@introdl/core'),
      );
      registries.push(registry);
      const env = {
        ...process.env,
        AUTOGRADER_ROOT: root,
        INTRODL_NPM_FLAGS: `--registry=${registry.url}`,
        npm_config_cache: path.join(root, 'npm-cache'),
        npm_config_update_notifier: 'false',
      };
      // Asynchronously: the registry answers from this process.
      const setup = await runAsync('bash', [path.join(root, 'source', 'setup.sh')], env, 400_000);
      expect(setup.status, setup.stdout + setup.stderr).toBe(0);
      // Only optional packages (other platforms' binaries, optional peers) may be missing.
      expect(registry.requiredMisses()).toEqual([]);
      expect(registry.packages.length).toBeGreaterThan(20);
      // The lab (reference solution and rubric) is root-only; the runtime stays readable.
      expect(statSync(path.join(root, 'source/node_modules/@introdl/lab0-fixture')).mode & 0o077).toBe(0);
      expect(statSync(path.join(root, 'source/node_modules/@introdl/core')).mode & 0o005).toBe(0o005);
      const run = spawnSync(path.join(root, 'source', 'run_autograder'), [], {
        env,
        encoding: 'utf8',
        timeout: 200_000,
      });
      expect(run.status, run.stdout + run.stderr).toBe(0);
      const results = JSON.parse(readFileSync(path.join(root, 'results', 'results.json'), 'utf8'));
      expect(validate(results, schema as never)).toEqual([]);
      expect(results.score).toBe(20);
      expect(results.tests).toHaveLength(8);
      expect(run.stdout).toMatch(/wrote .*results\.json: 20 \/ 20/);
    },
    420_000,
  );
});

afterAll(async () => {
  for (const r of registries.splice(0)) await r.close();
  removeTmpDirs();
});
