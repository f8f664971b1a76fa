import path from 'node:path';
import {
  BadFlagError,
  type CommandGroup,
  type CommandSpec,
  IntrodlError,
  intOption,
  numberOption,
} from '@introdl/core';
import { writeAutograder } from './autograder/autograder.js';
import { formatCheck } from './check/format.js';
import { runCheck } from './check/run-check.js';
import { gradeBatch } from './grade/grade-batch.js';
import { loadLab } from './lab/load-lab.js';
import type { Limits } from './rubric/types.js';
import { ISOLATION_LEVELS, type IsolationLevel } from './sandbox/isolation.js';
import { type CoreMode, scaffold } from './scaffold/scaffold.js';
import { WorkspaceError } from './workspace/manifest.js';

/** Runs `fn`, turning a workspace problem into the CLI's clean one-line error. */
async function asCliError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkspaceError) throw new IntrodlError(err.message);
    throw err;
  }
}

function requireOut(options: Record<string, unknown>): string {
  if (typeof options.out !== 'string' || !options.out) throw new BadFlagError('--out <dir> is required');
  return options.out;
}

const scaffoldCommand: CommandSpec = {
  name: 'scaffold',
  description: 'write a student workspace for a lab: its source with the exercises stubbed, public tests, handout',
  arguments: [{ name: 'lab', description: 'lab name (lab1) or lab package folder' }],
  options: [
    { flags: '--out <dir>', description: 'workspace folder to create' },
    {
      flags: '--core <mode>',
      description: 'where the workspace gets @introdl/core: tarball (packed into vendor/), registry, link',
      default: 'tarball',
      choices: ['tarball', 'registry', 'link'],
    },
    { flags: '--solution', description: 'keep the solutions in the regions (a reference workspace for TAs)' },
    { flags: '--force', description: 'replace a non-empty --out folder' },
  ],
  async run({ args, options, context }) {
    const lab = await loadLab(args[0]);
    const r = await scaffold(lab, {
      out: requireOut(options),
      core: options.core as CoreMode,
      solution: Boolean(options.solution),
      force: Boolean(options.force),
      log: context.log,
    });
    context.print(r.dir);
    const rel = path.relative(process.cwd(), r.dir);
    context.log(`next: cd ${rel.startsWith('..') ? r.dir : rel || '.'} && npm install && npm run check`);
    return 0;
  },
};

const checkCommand: CommandSpec = {
  name: 'check',
  description: "run a workspace's public tests and show which exercises are done, failing or not started",
  arguments: [{ name: 'dir', description: 'the workspace (default: the current folder)', required: false }],
  options: [{ flags: '--json', description: 'print the report as JSON' }],
  async run({ args, options, context }) {
    const report = await asCliError(() => runCheck(args[0] ?? process.cwd()));
    context.print(options.json ? JSON.stringify(report, null, 2) : formatCheck(report));
    return 0;
  },
};

function limitOverrides(options: Record<string, unknown>): Partial<Limits> {
  const limits: Partial<Limits> = {};
  if (options.testSeconds !== undefined) limits.testSeconds = numberOption(options, 'testSeconds', 0);
  if (options.memoryMb !== undefined) limits.memoryMb = intOption(options, 'memoryMb', 0);
  for (const [k, v] of Object.entries(limits)) {
    if (!(Number(v) > 0))
      throw new BadFlagError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be positive`);
  }
  return limits;
}

const gradeCommand: CommandSpec = {
  name: 'grade',
  description: 'grade submissions (folders or zips) in a sandbox: results.json, report.md each, summary.csv',
  arguments: [
    { name: 'lab', description: 'lab name (lab1) or lab package folder' },
    { name: 'submissions', description: 'submission folders or .zip files', variadic: true },
  ],
  options: [
    { flags: '--out <dir>', description: 'where results go (default grades/<lab>)' },
    { flags: '--jobs <n>', description: 'submissions graded in parallel', default: '1' },
    { flags: '--isolation <level>', description: `force an isolation level: ${ISOLATION_LEVELS.join(', ')}` },
    { flags: '--test-seconds <s>', description: "override the rubric's time limit per test" },
    { flags: '--memory-mb <n>', description: "override the rubric's memory limit per submission" },
  ],
  async run({ args, options, context }) {
    const [labName, ...subs] = args;
    if (!subs.length) throw new BadFlagError('give at least one submission folder or zip');
    const jobs = intOption(options, 'jobs', 1);
    if (jobs < 1) throw new BadFlagError('--jobs must be at least 1');
    const isolation = options.isolation as IsolationLevel | undefined;
    if (isolation && !ISOLATION_LEVELS.includes(isolation)) {
      throw new BadFlagError(`--isolation must be one of ${ISOLATION_LEVELS.join(', ')}`);
    }
    const lab = await loadLab(labName);
    const out = typeof options.out === 'string' ? options.out : path.join('grades', lab.name);
    const batch = await gradeBatch(lab, subs, {
      jobs,
      out,
      limits: limitOverrides(options),
      ...(isolation ? { isolation } : {}),
      log: context.log,
    });
    const total = batch.results.reduce((s, r) => s + r.score, 0);
    context.log(
      `graded ${batch.results.length} submissions (isolation ${batch.isolation}); mean ${(total / batch.results.length).toFixed(2)}`,
    );
    context.print(path.resolve(out, 'summary.csv'));
    return 0;
  },
};

const autograderCommand: CommandSpec = {
  name: 'autograder',
  description: 'write a Gradescope autograder (setup.sh + run_autograder) that grades this lab the same way',
  arguments: [{ name: 'lab', description: 'lab name (lab1) or lab package folder' }],
  options: [
    { flags: '--out <dir>', description: 'folder to write' },
    { flags: '--zip', description: 'also write <out>.zip, the file to upload' },
    { flags: '--force', description: 'replace a non-empty --out folder' },
  ],
  async run({ args, options, context }) {
    const lab = await loadLab(args[0]);
    const files = await writeAutograder(lab, {
      out: requireOut(options),
      zip: Boolean(options.zip),
      force: Boolean(options.force),
      log: context.log,
    });
    for (const f of files) context.print(f);
    return 0;
  },
};

/**
 * The grader's commands. Until the CLI lifts `topLevel` groups (see the README), they run as
 * `introdl grader scaffold|check|grade|autograder`.
 */
export const commands: CommandGroup & { topLevel: boolean } = {
  name: 'grader',
  description: 'student workspaces and grading: scaffold, check, grade, autograder',
  topLevel: true,
  commands: [scaffoldCommand, checkCommand, gradeCommand, autograderCommand],
};
