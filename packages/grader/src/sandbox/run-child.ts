import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Json } from '../rubric/types.js';
import type { Isolation } from './isolation.js';

/** A description of an error thrown by the student's code. */
export interface ChildError {
  name: string;
  message: string;
  /** `src/file.ts:line` where it was thrown, when known. */
  where?: string;
}

/** One test's answer from the child. */
export type ChildResult = { ok: true; output: Json; ms: number } | { ok: false; error: ChildError; ms: number };

/** Why a child stopped before it finished its tests. */
export interface Stopped {
  /** Index of the test that was running, `load` while the code was loading, `between` after an answer. */
  during: number | 'load' | 'between';
  kind: 'timeout' | 'total-time' | 'memory' | 'cpu' | 'exit' | 'crash' | 'load-error' | 'ended' | 'output';
  /** One line for the report. */
  reason: string;
}

export interface ChildJob {
  /** Folder with .introdl/runner.mjs, .introdl/probes.mjs, tmp/ and a node_modules link. */
  sandbox: string;
  tests: { i: number; probe: string; input: Json; seconds: number }[];
  cpuSeconds: number;
  memoryMb: number;
  /** Seconds allowed for loading the code (imports and `setup()`). */
  loadSeconds: number;
  /** Epoch milliseconds after which the whole submission is out of time. */
  deadline: number;
  isolation: Isolation;
  /** Folders the child must not see (covered by empty mounts at the namespace levels). */
  hide: string[];
  /** Folders the child may read besides the sandbox (the runtime: node_modules, @introdl/core). */
  readRoots: string[];
  /** Install the in-process network guard (default true). */
  guards?: boolean;
}

export interface ChildOutcome {
  results: Map<number, ChildResult>;
  stopped?: Stopped;
  /** What the child printed (untrusted), capped. */
  stdout: string;
  stderr: string;
}

const OUTPUT_CAP = 64 * 1024;
const CHANNEL_CAP = 64 * 1024 * 1024;

/** Mounts an empty, inaccessible tmpfs over each folder before `--`, then runs the rest. */
const HIDE_SCRIPT =
  'while [ "$1" != "--" ]; do mount -t tmpfs -o size=4k,mode=000 introdl-hidden "$1" || exit 97; shift; done; shift; exec "$@"';

/** The command line that starts the runner under `job.isolation`. */
export function childCommand(job: ChildJob): string[] {
  const runner = path.join(job.sandbox, '.introdl', 'runner.mjs');
  const heap = Math.max(64, Math.floor(job.memoryMb * 0.75));
  const node = [
    process.execPath,
    '--experimental-permission',
    `--allow-fs-read=${job.sandbox}`,
    ...job.readRoots.map((r) => `--allow-fs-read=${r}`),
    `--allow-fs-write=${path.join(job.sandbox, 'tmp')}`,
    // @introdl/core loads native addons (the PNG renderer); the OS-level isolation still holds.
    '--allow-addons',
    '--no-warnings',
    '--enable-source-maps',
    `--max-old-space-size=${heap}`,
    runner,
  ];
  const mib = 1024 * 1024;
  const limits = [
    'prlimit',
    `--cpu=${job.cpuSeconds}:${job.cpuSeconds + 1}`,
    `--data=${job.memoryMb * mib}:${job.memoryMb * mib}`,
    `--fsize=${64 * mib}:${64 * mib}`,
    '--nofile=512:512',
    '--core=0:0',
    '--',
  ];
  const { level, user } = job.isolation;
  const drop = user
    ? [
        'setpriv',
        `--reuid=${user.uid}`,
        `--regid=${user.gid}`,
        '--clear-groups',
        '--no-new-privs',
        '--inh-caps=-all',
        '--',
      ]
    : [];
  const ns = ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc'];
  const hideThen = ['/bin/sh', '-c', HIDE_SCRIPT, 'sh', ...job.hide, '--'];
  switch (level) {
    case 'namespaces':
      return [...limits, 'unshare', ...ns, '--', ...hideThen, ...drop, ...node];
    case 'user-namespaces':
      return [...limits, 'unshare', '--user', '--map-root-user', ...ns, '--', ...hideThen, ...node];
    case 'drop-user':
      return [...limits, ...drop, ...node];
    default:
      return [...limits, ...node];
  }
}

/**
 * Runs one child over `job.tests` in order, with a kill timer per test, one for loading and one
 * for the whole submission. Returns the answers it got and, when it stopped early, why and during
 * which test; the caller starts a fresh child for the tests after that one.
 */
export function runChild(job: ChildJob): Promise<ChildOutcome> {
  const [cmd, ...args] = childCommand(job);
  const child = spawn(cmd, args, {
    cwd: job.sandbox,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: path.join(job.sandbox, 'tmp'),
      TMPDIR: path.join(job.sandbox, 'tmp'),
      LANG: 'C.UTF-8',
      NODE_ENV: 'production',
    },
  });
  const results = new Map<number, ChildResult>();
  let stdout = '';
  let stderr = '';
  let stopped: Stopped | undefined;
  let phase: number | 'load' = 'load';
  let startedAt = Date.now();
  let done = false;
  let exitCalled: { code: number } | undefined;
  let crash: ChildError | undefined;
  let timer: NodeJS.Timeout | undefined;
  const byIndex = new Map(job.tests.map((t) => [t.i, t]));
  const nonce = randomBytes(16).toString('hex');

  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const stop = (s: Stopped) => {
    if (!stopped) stopped = s;
    kill();
  };
  const arm = (seconds: number, during: number | 'load') => {
    clearTimeout(timer);
    const left = job.deadline - Date.now();
    const ms = Math.min(seconds * 1000, Math.max(0, left));
    const total = left < seconds * 1000;
    timer = setTimeout(() => {
      if (total) stop({ during, kind: 'total-time', reason: 'the submission used up its total time limit' });
      else if (during === 'load') stop({ during, kind: 'timeout', reason: `loading the code took over ${seconds} s` });
      else stop({ during, kind: 'timeout', reason: `stopped after ${seconds} s (time limit): an infinite loop?` });
    }, ms);
  };
  arm(job.loadSeconds, 'load');

  let channelBytes = 0;
  let pending = '';
  const onMessage = (m: Record<string, unknown>) => {
    switch (m.type) {
      case 'ready':
        phase = -1;
        break;
      case 'start': {
        const t = byIndex.get(m.i as number);
        if (!t || results.has(t.i)) return;
        phase = t.i;
        startedAt = Date.now();
        arm(t.seconds, t.i);
        break;
      }
      case 'result': {
        // Only the answer to the test that is running counts.
        if (m.i !== phase || typeof phase !== 'number' || phase < 0) return;
        const ms = Date.now() - startedAt;
        if (m.ok === true) results.set(phase, { ok: true, output: (m.output ?? null) as Json, ms });
        else results.set(phase, { ok: false, error: asError(m.error), ms });
        clearTimeout(timer);
        break;
      }
      case 'load-error':
        stop({
          during: 'load',
          kind: 'load-error',
          reason: `your code failed to load: ${formatError(asError(m.error))}`,
        });
        break;
      case 'exit':
        exitCalled = { code: Number(m.code) || 0 };
        break;
      case 'crash':
        crash = asError(m.error);
        break;
      case 'done':
        // Only believable once every test has answered.
        if (job.tests.every((t) => results.has(t.i))) {
          done = true;
          clearTimeout(timer);
        }
        break;
    }
  };
  const channel = child.stdio[3] as NodeJS.ReadableStream;
  channel.on('data', (chunk: Buffer) => {
    channelBytes += chunk.length;
    if (channelBytes > CHANNEL_CAP) {
      stop({
        during: phase === 'load' ? 'load' : phase,
        kind: 'output',
        reason: 'sent back more than 64 MB of output',
      });
      return;
    }
    pending += chunk.toString('utf8');
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        const envelope = JSON.parse(line) as { n?: unknown; m?: unknown };
        // Lines without the nonce were written by the submission itself: ignore them.
        if (envelope?.n === nonce && envelope.m && typeof envelope.m === 'object') {
          onMessage(envelope.m as Record<string, unknown>);
        }
      } catch {
        // not a message: ignore
      }
      nl = pending.indexOf('\n');
    }
  });
  child.stdout.on('data', (d: Buffer) => {
    if (stdout.length < OUTPUT_CAP) stdout += d.toString('utf8');
  });
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < OUTPUT_CAP) stderr += d.toString('utf8');
  });
  child.stdin.on('error', () => {});
  child.stdin.end(
    JSON.stringify({
      nonce,
      module: path.join(job.sandbox, '.introdl', 'probes.mjs'),
      tests: job.tests.map(({ i, probe, input }) => ({ i, probe, input })),
      guards: job.guards ?? true,
    }),
  );

  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      kill(); // anything left in its process group goes too
      if (!done && !stopped) {
        if (phase === 'load') stopped = explainEnd('load', code, signal, stderr, exitCalled, crash, job);
        else if (phase >= 0 && !results.has(phase)) {
          stopped = explainEnd(phase, code, signal, stderr, exitCalled, crash, job);
        } else
          stopped = { during: 'between', kind: 'ended', reason: `the process ended between tests (${signal ?? code})` };
      }
      resolve({ results, stopped, stdout: cap(stdout), stderr: cap(stderr) });
    });
  });
}

function explainEnd(
  during: number | 'load',
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  exitCalled: { code: number } | undefined,
  crash: ChildError | undefined,
  job: ChildJob,
): Stopped {
  if (/heap limit|out of memory|allocation failed|Array buffer allocation failed/i.test(stderr)) {
    return { during, kind: 'memory', reason: `ran out of memory (limit ${job.memoryMb} MB)` };
  }
  if (signal === 'SIGXCPU' || (signal === 'SIGKILL' && /CPU time/i.test(stderr))) {
    return { during, kind: 'cpu', reason: `used more than ${job.cpuSeconds} s of CPU time` };
  }
  if (exitCalled) {
    return { during, kind: 'exit', reason: `your code called process.exit(${exitCalled.code})` };
  }
  if (crash) return { during, kind: 'crash', reason: `crashed: ${formatError(crash)}` };
  if (signal === 'SIGSEGV' || signal === 'SIGABRT' || signal === 'SIGTRAP' || signal === 'SIGBUS') {
    return {
      during,
      kind: 'memory',
      reason: `the process died (${signal}); most likely it ran out of memory (limit ${job.memoryMb} MB)`,
    };
  }
  if (code === 97) {
    return {
      during,
      kind: 'ended',
      reason: `the grader could not set up its sandbox (a mount failed): ${stderr.trim().slice(0, 300)}`,
    };
  }
  if (code === 13) {
    return { during, kind: 'ended', reason: 'the process ended while waiting for a promise that never settles' };
  }
  return { during, kind: 'ended', reason: `the process ended unexpectedly (${signal ?? `exit code ${code}`})` };
}

function asError(e: unknown): ChildError {
  const o = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
  return {
    name: String(o.name ?? 'Error').slice(0, 100),
    message: String(o.message ?? e).slice(0, 2000),
    ...(typeof o.where === 'string' ? { where: o.where.slice(0, 200) } : {}),
  };
}

/** `TypeError: x is not a function (src/a.ts:3)`; plain errors read `Error: …`. */
export function formatError(e: ChildError): string {
  return `${e.name || 'Error'}: ${e.message}${e.where ? ` (${e.where})` : ''}`;
}

function cap(s: string): string {
  return s.length > OUTPUT_CAP ? `${s.slice(0, OUTPUT_CAP)}\n[… output cut at 64 KB]` : s;
}
