import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { BadFlagError } from '../errors.js';
import { writeFileAtomicSync as writeFileAtomic } from '../fs/atomic.js';

/**
 * The run folder every command that trains or generates writes (see docs/architecture):
 * `run.json` (what ran, with what, and how it ended), `log.jsonl` (one line per step),
 * `checkpoints/<step>/` and `outputs/`. The studio and the grader read nothing else.
 */

/** The content of run.json. */
export interface RunInfo {
  lab: string;
  name: string;
  command: string;
  config: Record<string, unknown>;
  seed: number;
  backend: string;
  device: string;
  versions: Record<string, string>;
  status: 'running' | 'completed' | 'failed' | 'stopped';
  start: string;
  end?: string;
  /** Headline results (final losses, accuracies) for listings. */
  summary?: Record<string, unknown>;
  error?: string;
}

/** Options to create a run folder. */
export interface RunOptions {
  lab: string;
  command: string;
  config: Record<string, unknown>;
  seed: number;
  backend?: string;
  device?: string;
  /** Exact folder (`--out`); default `<root>/<lab>/<UTC timestamp>`. */
  out?: string;
  /** Root of all runs; default `runs` in the working directory or `INTRODL_RUNS`. */
  root?: string;
  /** A readable name under `<root>/<lab>/` instead of the timestamp. */
  name?: string;
  /** Reopen an existing folder (for --resume) instead of requiring a new one. */
  reuse?: boolean;
}

const require = createRequire(import.meta.url);

/** Versions of the packages a result depends on, for run.json and benchmarks. */
export function versions(): Record<string, string> {
  const v: Record<string, string> = { node: process.versions.node };
  for (const pkg of [
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-webgpu',
    'webgpu',
  ]) {
    try {
      v[pkg] = (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      // not installed
    }
  }
  try {
    v['@introdl/core'] = (require('../../package.json') as { version: string }).version;
  } catch {
    v['@introdl/core'] = 'bundled'; // bench/gpu.sh's single-file bundles carry no package.json
  }
  return v;
}

function timestamp(): string {
  return new Date()
    .toISOString()
    .replace(/[:]/g, '-')
    .replace(/\.\d+Z$/, 'Z');
}

/** A run folder being written. */
export class RunFolder {
  readonly info: RunInfo;

  private constructor(
    readonly dir: string,
    info: RunInfo,
  ) {
    this.info = info;
  }

  /** Creates (or with `reuse`, reopens) a run folder and writes its run.json. */
  static create(options: RunOptions): RunFolder {
    const root = options.root ?? process.env.INTRODL_RUNS ?? 'runs';
    const dir = path.resolve(options.out ?? path.join(root, options.lab, options.name ?? timestamp()));
    let previous: Partial<RunInfo> = {};
    if (existsSync(path.join(dir, 'run.json'))) {
      if (!options.reuse) {
        throw new BadFlagError(`${dir} already holds a run; pass another --out, or --resume to continue it`);
      }
      previous = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
    }
    mkdirSync(path.join(dir, 'outputs'), { recursive: true });
    mkdirSync(path.join(dir, 'checkpoints'), { recursive: true });
    const info: RunInfo = {
      lab: options.lab,
      name: path.basename(dir),
      command: options.command,
      config: options.config,
      seed: options.seed,
      backend: options.backend ?? 'unknown',
      device: options.device ?? '',
      versions: versions(),
      status: 'running',
      start: previous.start ?? new Date().toISOString(),
    };
    const run = new RunFolder(dir, info);
    run.save();
    return run;
  }

  get logPath(): string {
    return path.join(this.dir, 'log.jsonl');
  }

  get checkpointsDir(): string {
    return path.join(this.dir, 'checkpoints');
  }

  /** Path of a file under `outputs/`. */
  output(...parts: string[]): string {
    const p = path.join(this.dir, 'outputs', ...parts);
    mkdirSync(path.dirname(p), { recursive: true });
    return p;
  }

  /** Appends one JSON object as a line of log.jsonl. */
  log(entry: Record<string, unknown>): void {
    appendFileSync(this.logPath, `${JSON.stringify(entry)}\n`);
  }

  /** Rewrites run.json atomically. */
  save(): void {
    writeFileAtomic(path.join(this.dir, 'run.json'), `${JSON.stringify(this.info, null, 2)}\n`);
  }

  /** Marks the run finished with a status and optional summary. */
  finish(status: RunInfo['status'], summary?: Record<string, unknown>, error?: string): void {
    this.info.status = status;
    this.info.end = new Date().toISOString();
    if (summary) this.info.summary = { ...this.info.summary, ...summary };
    if (error) this.info.error = error;
    this.save();
  }
}

/** Reads the steps of a log.jsonl (skipping a torn last line, as a crash may leave one). */
export function readLog(logPath: string): Record<string, unknown>[] {
  if (!existsSync(logPath)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(logPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a torn line from an interrupted write
    }
  }
  return out;
}

/** Keeps only log entries up to `step` (used on resume: steps after the checkpoint are redone). */
export function truncateLog(logPath: string, step: number): void {
  if (!existsSync(logPath)) return;
  const kept = readLog(logPath).filter((e) => typeof e.step !== 'number' || e.step <= step);
  writeFileAtomic(logPath, kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
}
