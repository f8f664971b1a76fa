import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadFlagError, IntrodlError } from '@introdl/core';
import { build } from 'esbuild';
import type { Lab } from '../lab/load-lab.js';
import { WORKSPACE_DIR } from '../workspace/manifest.js';
import { solutionBodies, stubbedSource } from './stubs.js';
import {
  type CoreSource,
  handoutPath,
  MANIFEST_FILE,
  WORKSPACE_GITIGNORE,
  workspaceManifest,
  workspacePackageJson,
  workspaceReadme,
  workspaceTsconfig,
  workspaceVitestConfig,
} from './workspace-files.js';

const require = createRequire(import.meta.url);

/** How the workspace gets `@introdl/core`. */
export type CoreMode =
  /** `npm pack` it into vendor/ (default): the workspace installs without a published @introdl/core. */
  | 'tarball'
  /** Depend on the published version. */
  | 'registry'
  /** Link node_modules to the grader's own (for tests and TAs in the monorepo: no install at all). */
  | 'link';

export interface ScaffoldOptions {
  /** Folder to create; must not exist or be empty unless `force`. */
  out: string;
  core?: CoreMode;
  /** Keep the solutions in the regions (a TA's reference workspace). */
  solution?: boolean;
  /** Replace an existing, non-empty `out`. */
  force?: boolean;
  log?: (message: string) => void;
}

/** What was written. */
export interface ScaffoldResult {
  dir: string;
  files: string[];
  exercises: number;
}

/**
 * Writes a standalone student workspace for `lab` into `options.out`: the lab's sources with each
 * exercise region stubbed out, its public tests, the handout, a package.json, tsconfig, vitest
 * config and `.introdl/check.mjs` (so `npm run check` needs no grader installed). The folder is
 * built next to `out` and renamed into place at the end, so a failure leaves nothing half-written.
 */
export async function scaffold(lab: Lab, options: ScaffoldOptions): Promise<ScaffoldResult> {
  const out = path.resolve(options.out);
  const log = options.log ?? (() => {});
  if (existsSync(out) && readdirSync(out).length > 0 && !options.force) {
    throw new BadFlagError(`--out ${out} exists and is not empty: choose another folder or pass --force`);
  }
  const tmp = `${out}.partial-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  const files: string[] = [];
  const write = (rel: string, text: string) => {
    const abs = path.join(tmp, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, text);
    files.push(rel);
  };
  try {
    const bodies = options.solution ? solutionBodies(lab) : undefined;
    for (const rel of lab.workspaceFiles) {
      write(rel, bodies ? readFileSync(path.join(lab.packageDir, rel), 'utf8') : stubbedSource(lab, rel));
    }
    const handout = handoutPath(lab);
    if (handout) write('HANDOUT.md', readFileSync(handout, 'utf8'));
    else if (lab.rubric.handout) log(`warning: the handout ${lab.rubric.handout} is missing; the workspace has none`);

    const mode = options.core ?? 'tarball';
    let core: CoreSource;
    if (mode === 'tarball') {
      const file = packCore(path.join(tmp, 'vendor'));
      core = { kind: 'tarball', file: `./vendor/${file}` };
      files.push(`vendor/${file}`);
    } else {
      core = { kind: 'registry', range: `^${coreVersion()}` };
    }
    write('package.json', workspacePackageJson(lab, core));
    write('tsconfig.json', workspaceTsconfig());
    write('vitest.config.ts', workspaceVitestConfig(lab.rubric.publicTests));
    write('README.md', workspaceReadme(lab, Boolean(handout), mode === 'tarball'));
    write('.gitignore', WORKSPACE_GITIGNORE);
    write(MANIFEST_FILE, workspaceManifest(lab));
    await bundleCheckScript(path.join(tmp, WORKSPACE_DIR, 'check.mjs'));
    files.push(`${WORKSPACE_DIR}/check.mjs`);
    if (mode === 'link') symlinkSync(sharedNodeModules(), path.join(tmp, 'node_modules'), 'dir');

    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    mkdirSync(path.dirname(out), { recursive: true });
    renameSync(tmp, out);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  log(`wrote ${out}: ${lab.exercises.length} exercises${options.solution ? ' (with solutions)' : ''}`);
  return { dir: out, files: files.sort(), exercises: lab.exercises.length };
}

function coreDir(): string {
  return path.dirname(require.resolve('@introdl/core/package.json'));
}

function coreVersion(): string {
  return (JSON.parse(readFileSync(path.join(coreDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** `npm pack` of @introdl/core into `dest`; returns the tarball's file name. */
function packCore(dest: string): string {
  mkdirSync(dest, { recursive: true });
  const dir = coreDir();
  if (!existsSync(path.join(dir, 'dist', 'index.js'))) {
    throw new IntrodlError(`@introdl/core at ${dir} is not built: run npm run build first`);
  }
  try {
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const parsed = JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[];
    return parsed[0].filename;
  } catch (err) {
    throw new IntrodlError(`npm pack of @introdl/core failed: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The node_modules folder that holds the @introdl/core this grader uses. */
export function sharedNodeModules(): string {
  // .../node_modules/@introdl/core (a symlink in a monorepo) → .../node_modules
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'node_modules', '@introdl', 'core', 'package.json'))) {
      return path.join(dir, 'node_modules');
    }
    if (path.dirname(dir) === dir) throw new IntrodlError('cannot find the node_modules that holds @introdl/core');
  }
}

/** Bundles the workspace check (no dependencies but Node) into one file. */
async function bundleCheckScript(file: string): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const entry = ['js', 'ts'].map((ext) => path.join(here, '..', 'check', `workspace-main.${ext}`)).find(existsSync);
  if (!entry) throw new IntrodlError(`the grader's check script is missing next to ${here}`);
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'silent',
    banner: { js: '// Written by `introdl scaffold`: runs the public tests and prints your progress.' },
  });
}
