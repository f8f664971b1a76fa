import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadFlagError, IntrodlError } from '@introdl/core';
import type { Lab } from '../lab/load-lab.js';
import type { Limits } from '../rubric/types.js';
import { runScript, setupScript } from './scripts.js';

const require = createRequire(import.meta.url);

/** What `run_autograder` reads: which lab to grade and any limit overrides. */
export interface AutograderConfig {
  lab: string;
  package: string;
  limits?: Partial<Limits>;
}

export interface AutograderOptions {
  out: string;
  limits?: Partial<Limits>;
  /** Also write <out>.zip (the file to upload), with the `zip` command. */
  zip?: boolean;
  force?: boolean;
  log?: (message: string) => void;
}

/** `npm pack` of the package in `dir` into `dest`; returns the tarball's file name. */
function pack(dir: string, dest: string): string {
  try {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return (JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[])[0].filename;
  } catch (err) {
    throw new IntrodlError(`npm pack in ${dir} failed: ${(err as Error).message.split('\n')[0]}`);
  }
}

/**
 * Writes a Gradescope autograder for `lab` into `options.out`: setup.sh, run_autograder, the
 * grader, the lab and @introdl/core as npm tarballs under introdl/, a package.json that installs
 * them, and config.json. Upload the folder's contents zipped (or `<out>.zip` with `zip: true`).
 */
export async function writeAutograder(lab: Lab, options: AutograderOptions): Promise<string[]> {
  const out = path.resolve(options.out);
  if (existsSync(out) && readdirSync(out).length && !options.force) {
    throw new BadFlagError(`--out ${out} exists and is not empty: choose another folder or pass --force`);
  }
  const grader = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const core = path.dirname(require.resolve('@introdl/core/package.json'));
  for (const [name, dir] of [
    ['@introdl/grader', grader],
    ['@introdl/core', core],
  ]) {
    if (!existsSync(path.join(dir, 'dist'))) throw new IntrodlError(`${name} is not built: run npm run build first`);
  }
  const tmp = `${out}.partial-${process.pid}-${Date.now()}`;
  mkdirSync(path.join(tmp, 'introdl'), { recursive: true });
  try {
    const tarballs = {
      '@introdl/core': pack(core, path.join(tmp, 'introdl')),
      '@introdl/grader': pack(grader, path.join(tmp, 'introdl')),
      [lab.packageName]: pack(lab.packageDir, path.join(tmp, 'introdl')),
    };
    const deps = Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:introdl/${f}`]));
    const pkg = {
      name: `introdl-${lab.name}-autograder`,
      private: true,
      description: `Gradescope autograder for ${lab.rubric.title}`,
      type: 'module',
      dependencies: deps,
      // Every package that asks for @introdl/core gets the tarball, never the registry; type
      // packages some dependencies list (never loaded at run time) stay on Node 20's.
      overrides: { '@introdl/core': deps['@introdl/core'], '@types/node': '^20.19.0' },
    };
    const config: AutograderConfig = {
      lab: lab.name,
      package: lab.packageName,
      ...(options.limits ? { limits: options.limits } : {}),
    };
    writeFileSync(path.join(tmp, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    writeFileSync(path.join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(path.join(tmp, 'setup.sh'), setupScript(lab.packageName));
    writeFileSync(path.join(tmp, 'run_autograder'), runScript());
    chmodSync(path.join(tmp, 'setup.sh'), 0o755);
    chmodSync(path.join(tmp, 'run_autograder'), 0o755);
    writeFileSync(path.join(tmp, 'README.md'), readme(lab));
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const files = readdirSync(out).map((f) => path.join(out, f));
  if (options.zip) {
    const zipFile = `${out}.zip`;
    rmSync(zipFile, { force: true });
    try {
      execFileSync('zip', ['-r', '-q', zipFile, '.'], { cwd: out, stdio: 'ignore' });
    } catch {
      throw new IntrodlError(
        `could not run \`zip\` to write ${zipFile}: install zip, or zip the folder's contents yourself`,
      );
    }
    files.push(zipFile);
  }
  options.log?.(`wrote the ${lab.name} autograder to ${out}${options.zip ? ` and ${out}.zip` : ''}`);
  return files;
}

function readme(lab: Lab): string {
  const pkg = JSON.parse(readFileSync(path.join(lab.packageDir, 'package.json'), 'utf8')) as { version?: string };
  return `# Gradescope autograder: ${lab.rubric.title}

Made by \`introdl autograder ${lab.name}\` (${lab.packageName} ${pkg.version ?? ''}).

Upload a zip of this folder's contents (not of the folder) as the assignment's autograder, with
Ubuntu 22.04 or newer as the base image. \`setup.sh\` installs Node 20 and the packages in
introdl/; \`run_autograder\` grades /autograder/submission into /autograder/results/results.json.
Students upload their workspace (or its src folder), as a zip or as files.
`;
}
