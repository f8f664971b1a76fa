import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Lab } from '../lab/load-lab.js';
import type { Limits, RubricTest } from '../rubric/types.js';
import type { Isolation } from '../sandbox/isolation.js';
import { type ChildResult, runChild } from '../sandbox/run-child.js';
import { BundleError, bundleProbes } from './bundle.js';

/** Where and how children run: shared by every submission of a batch. */
export interface Environment {
  /** Folder (mode 0711) under which each run gets a sandbox with a random name. */
  workRoot: string;
  isolation: Isolation;
  /** Folders hidden from the child. */
  hide: string[];
  /** Folders the child may read (the runtime). */
  readRoots: string[];
  /** The node_modules the sandbox links to. */
  nodeModules: string;
  /** Install the in-process network guard (default true; tests turn it off to check the namespace). */
  guards?: boolean;
}

/** The outcome of running a lab's probes on one version of its sources. */
export interface Execution {
  /** Answers by test index. */
  answers: Map<number, ChildResult>;
  /** Tests that got no answer, with the reason (time limit, crash, memory, ...). */
  failures: Map<number, string>;
  /** What the student's code printed (untrusted), capped. */
  stdout: string;
  stderr: string;
  /** Children started (1 when nothing went wrong). */
  children: number;
}

let runnerCode: Promise<string> | undefined;

/** The child runner as one JavaScript file (compiled or, in development, transpiled from TypeScript). */
function runnerSource(): Promise<string> {
  runnerCode ??= (async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const entry = ['js', 'ts'].map((e) => path.join(here, '..', 'sandbox', `runner.${e}`)).find(existsSync);
    if (!entry) throw new Error(`the grader's sandbox runner is missing next to ${here}`);
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
    });
    return r.outputFiles[0].text;
  })();
  return runnerCode;
}

/**
 * Bundles the probes with `files` as the lab's exercise files into a fresh sandbox and runs the
 * given tests there, restarting a fresh child after one that stopped (a time limit, a crash, an
 * exit) so that one bad exercise costs only its own tests. The sandbox is deleted afterwards.
 */
export async function execute(
  lab: Lab,
  files: ReadonlyMap<string, string>,
  tests: { i: number; test: RubricTest }[],
  limits: Limits,
  env: Environment,
): Promise<Execution> {
  const sandbox = mkdtempSync(path.join(env.workRoot, 's-'));
  const result: Execution = { answers: new Map(), failures: new Map(), stdout: '', stderr: '', children: 0 };
  try {
    chmodSync(sandbox, 0o755);
    mkdirSync(path.join(sandbox, '.introdl'), { mode: 0o755 });
    writeFileSync(path.join(sandbox, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(path.join(sandbox, '.introdl', 'runner.mjs'), await runnerSource());
    const tmp = path.join(sandbox, 'tmp');
    mkdirSync(tmp, { mode: 0o700 });
    if (env.isolation.user) chownSync(tmp, env.isolation.user.uid, env.isolation.user.gid);
    symlinkSync(env.nodeModules, path.join(sandbox, 'node_modules'), 'dir');
    try {
      await bundleProbes(lab, files, path.join(sandbox, '.introdl', 'probes.mjs'));
    } catch (err) {
      if (!(err instanceof BundleError)) throw err;
      for (const { i } of tests) result.failures.set(i, `your code could not be built: ${err.message}`);
      return result;
    }
    const deadline = Date.now() + limits.totalSeconds * 1000;
    let remaining = tests;
    while (remaining.length && result.children <= tests.length + 1) {
      result.children++;
      const outcome = await runChild({
        sandbox,
        tests: remaining.map(({ i, test }) => ({
          i,
          probe: test.probe,
          input: test.input ?? null,
          seconds: test.seconds ?? limits.testSeconds,
        })),
        cpuSeconds: limits.cpuSeconds,
        memoryMb: limits.memoryMb,
        loadSeconds: Math.max(30, limits.testSeconds),
        deadline,
        isolation: env.isolation,
        hide: env.hide,
        readRoots: env.readRoots,
        guards: env.guards,
      });
      for (const [i, r] of outcome.results) result.answers.set(i, r);
      result.stdout += outcome.stdout;
      result.stderr += outcome.stderr;
      const s = outcome.stopped;
      if (s && typeof s.during === 'number') result.failures.set(s.during, s.reason);
      const open = remaining.filter(({ i }) => !result.answers.has(i) && !result.failures.has(i));
      if (s && (s.during === 'load' || s.kind === 'total-time' || Date.now() >= deadline)) {
        const why =
          s.during === 'load'
            ? `could not load your code: ${s.reason}`
            : 'not run: the submission used up its total time';
        for (const { i } of open) result.failures.set(i, why);
        break;
      }
      remaining = open;
    }
    for (const { i } of remaining) {
      if (!result.answers.has(i) && !result.failures.has(i)) result.failures.set(i, 'not run: too many restarts');
    }
    return result;
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
  }
}
