import { spawnSync } from 'node:child_process';
import { IntrodlError } from '@introdl/core';

/**
 * How strongly the child that runs a submission is shut in. Every level runs Node's permission
 * model (file reads limited to the sandbox and the runtime, writes to the sandbox's tmp/, no child
 * processes, no worker threads, no process.binding), the resource limits and the network guard.
 *
 * - `namespaces` (root with util-linux `unshare`): also its own network namespace (no network at
 *   all), mount namespace (the lab, the grader and the submissions folders are covered by empty
 *   tmpfs mounts), PID namespace (every process it starts dies with it), and it runs as the
 *   unprivileged user `introdl-grader`.
 * - `user-namespaces` (not root, unprivileged user namespaces allowed): the same namespaces, as the
 *   calling user.
 * - `drop-user` (root where namespaces are refused, as in some containers): runs as
 *   `introdl-grader`; the grader's files must be unreadable to that user (the Gradescope setup.sh
 *   does this with file permissions); no network namespace.
 * - `basic` (not root, no namespaces): the permission model and limits only; a determined
 *   submission could read other files through symbolic links in node_modules.
 */
export type IsolationLevel = 'namespaces' | 'user-namespaces' | 'drop-user' | 'basic';

export const ISOLATION_LEVELS: IsolationLevel[] = ['namespaces', 'user-namespaces', 'drop-user', 'basic'];

export interface Isolation {
  level: IsolationLevel;
  /** The unprivileged user the child runs as (namespaces and drop-user). */
  user?: { name: string; uid: number; gid: number };
  /** What this level leaves open, for the report. */
  caveat?: string;
}

/** The user children run as when the grader runs as root. */
export const GRADER_USER = 'introdl-grader';

const NS_FLAGS = ['--net', '--mount', '--pid', '--fork', '--kill-child', '--mount-proc'];

function works(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  return r.status === 0;
}

const isRoot = () => process.getuid?.() === 0;

/** What this machine allows, best first. */
export function availableLevels(): IsolationLevel[] {
  const levels: IsolationLevel[] = [];
  if (!works('prlimit', ['--version'])) return levels;
  if (isRoot()) {
    const setpriv = works('setpriv', ['--version']);
    if (setpriv && works('unshare', [...NS_FLAGS, 'true'])) levels.push('namespaces');
    if (setpriv) levels.push('drop-user');
  } else if (works('unshare', ['--user', '--map-root-user', ...NS_FLAGS, 'true'])) {
    levels.push('user-namespaces');
  }
  levels.push('basic');
  return levels;
}

let cached: IsolationLevel[] | undefined;

/**
 * Picks the isolation level: the one asked for (an error if this machine cannot give it), or the
 * strongest available. Creates the `introdl-grader` system user when running as root and it is
 * missing (falling back to `nobody`).
 */
export function chooseIsolation(wanted?: IsolationLevel): Isolation {
  cached ??= availableLevels();
  if (!cached.length) {
    throw new IntrodlError('grading needs util-linux (prlimit, unshare, setpriv): apt-get install util-linux');
  }
  if (wanted && !cached.includes(wanted)) {
    throw new IntrodlError(`isolation "${wanted}" is not possible here; available: ${cached.join(', ')}`);
  }
  const level = wanted ?? cached[0];
  const iso: Isolation = { level };
  if (level === 'namespaces' || level === 'drop-user') iso.user = ensureGraderUser();
  if (level === 'drop-user') {
    iso.caveat =
      'no network namespace (the in-process guard blocks sockets); grader files protected by permissions only';
  }
  if (level === 'basic') {
    iso.caveat = 'no namespaces and no separate user: file reads are limited by the Node permission model only';
  }
  return iso;
}

function lookup(name: string): { name: string; uid: number; gid: number } | undefined {
  const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
  const fields = r.status === 0 ? r.stdout.trim().split(':') : [];
  return fields.length >= 4 ? { name, uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

function ensureGraderUser(): { name: string; uid: number; gid: number } {
  const existing = lookup(GRADER_USER);
  if (existing) return existing;
  spawnSync(
    'useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      GRADER_USER,
    ],
    { stdio: 'ignore' },
  );
  return lookup(GRADER_USER) ?? { name: 'nobody', uid: 65534, gid: 65534 };
}
