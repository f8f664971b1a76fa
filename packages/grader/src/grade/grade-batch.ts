import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '@introdl/core';
import type { Lab } from '../lab/load-lab.js';
import { summaryCsv } from '../report/csv.js';
import { gradescopeJson, toGradescope } from '../report/gradescope.js';
import { markdownReport } from '../report/markdown.js';
import type { Limits } from '../rubric/types.js';
import { chooseIsolation, type IsolationLevel } from '../sandbox/isolation.js';
import { sharedNodeModules } from '../scaffold/scaffold.js';
import type { ZipLimits } from '../submission/zip.js';
import type { Environment } from './execute.js';
import { computeReference, type GradeContext, gradeSubmission } from './grade-submission.js';
import type { SubmissionResult } from './types.js';

const require = createRequire(import.meta.url);

export interface GradeOptions {
  /** Submissions graded at once (default 1). Each runs its own child process. */
  jobs?: number;
  /** Folder for results: <name>/results.json, <name>/report.md, summary.csv. */
  out?: string;
  /** Force an isolation level (default: the strongest this machine allows). */
  isolation?: IsolationLevel;
  /** Overrides of the rubric's limits (tests use short ones). */
  limits?: Partial<Limits>;
  zipLimits?: ZipLimits;
  /** More folders to hide from the child (namespace levels). */
  hide?: string[];
  /** Turn the in-process network guard off (to test the network namespace alone). */
  guards?: boolean;
  /** Called after each submission. */
  onResult?: (result: SubmissionResult) => void;
  log?: (message: string) => void;
}

export interface BatchResult {
  results: SubmissionResult[];
  isolation: IsolationLevel;
  /** Files written under `out`. */
  written: string[];
}

/** `alice.zip` → `alice`; anything but letters, digits, `.`, `_` and `-` becomes `_`; unique in the batch. */
export function submissionNames(sources: string[]): string[] {
  const used = new Set<string>();
  return sources.map((s) => {
    const base =
      path
        .basename(path.resolve(s))
        .replace(/\.zip$/i, '')
        .replace(/[^\w.-]/g, '_') || 'submission';
    let name = base.replace(/^\.+/, '_');
    for (let k = 2; used.has(name); k++) name = `${base}-${k}`;
    used.add(name);
    return name;
  });
}

/** True when `inner` is `outer` or lies inside it. */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Folders the child must not see: the lab, the grader, every @introdl package but core, the submissions. */
function hiddenFolders(lab: Lab, sources: string[], extra: string[], keep: string[], nodeModules: string): string[] {
  const candidates = [lab.packageDir, path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..'), ...extra];
  const scope = path.join(nodeModules, '@introdl');
  if (existsSync(scope)) {
    for (const entry of readdirSync(scope)) if (entry !== 'core') candidates.push(path.join(scope, entry));
  }
  for (const s of sources) {
    const abs = path.resolve(s);
    candidates.push(existsSync(abs) && statSync(abs).isDirectory() ? abs : path.dirname(abs));
  }
  const out = new Set<string>();
  for (const c of candidates) {
    if (!existsSync(c)) continue;
    const real = realpathSync(c);
    if (!statSync(real).isDirectory() || real === path.parse(real).root) continue;
    // Never cover what the child needs: its sandbox (under workRoot) and the runtime.
    if (keep.some((k) => within(k, real))) continue;
    out.add(real);
  }
  // Covering a folder hides what is inside it, and a mount on a hidden path would fail: keep the outermost.
  const all = [...out];
  return all.filter((p) => !all.some((q) => q !== p && within(p, q)));
}

/**
 * Grades every submission of a batch. The reference outputs are computed once, then submissions
 * run `jobs` at a time, each in a fresh sandbox. Results, one report per submission and the class
 * summary are written under `options.out` when given. A bad submission never stops the batch.
 */
export async function gradeBatch(lab: Lab, sources: string[], options: GradeOptions = {}): Promise<BatchResult> {
  const log = options.log ?? (() => {});
  const isolation = chooseIsolation(options.isolation);
  if (isolation.caveat) log(`warning: isolation ${isolation.level}: ${isolation.caveat}`);
  const workRoot = mkdtempSync(path.join(os.tmpdir(), 'introdl-grade-'));
  try {
    chmodSync(workRoot, 0o711);
    const scratch = path.join(workRoot, 'private');
    mkdirSync(scratch, { mode: 0o700 });
    const nodeModules = sharedNodeModules();
    const coreDir = realpathSync(path.dirname(require.resolve('@introdl/core/package.json')));
    const readRoots = [realpathSync(nodeModules), coreDir];
    const env: Environment = {
      workRoot,
      isolation,
      readRoots,
      nodeModules,
      hide: hiddenFolders(lab, sources, [scratch, ...(options.hide ?? [])], [workRoot, ...readRoots], nodeModules),
      ...(options.guards === undefined ? {} : { guards: options.guards }),
    };
    const limits = { ...lab.limits, ...options.limits };
    log(`${lab.name}: computing the reference outputs`);
    const reference = await computeReference(lab, env, limits);
    const ctx: GradeContext = {
      lab,
      env,
      limits,
      reference,
      scratch,
      ...(options.zipLimits ? { zipLimits: options.zipLimits } : {}),
    };
    const names = submissionNames(sources);
    const results: SubmissionResult[] = new Array(sources.length);
    const written: string[] = [];
    let next = 0;
    const worker = async () => {
      for (;;) {
        const k = next++;
        if (k >= sources.length) return;
        const r = await gradeSubmission(ctx, path.resolve(sources[k]), names[k]);
        results[k] = r;
        if (options.out) written.push(...writeSubmission(options.out, lab, r));
        log(`${r.name}: ${r.score} / ${r.maxScore}${r.rejected ? ` (refused: ${r.rejected})` : ''}`);
        options.onResult?.(r);
      }
    };
    const jobs = Math.max(1, Math.min(options.jobs ?? 1, sources.length));
    await Promise.all(Array.from({ length: jobs }, worker));
    if (options.out) {
      const file = path.join(path.resolve(options.out), 'summary.csv');
      writeFileAtomicSync(file, summaryCsv(lab, results));
      written.push(file);
    }
    return { results, isolation: isolation.level, written };
  } finally {
    rmSync(workRoot, { recursive: true, force: true });
  }
}

/** Writes <out>/<name>/results.json and report.md; returns their paths. */
export function writeSubmission(out: string, lab: Lab, r: SubmissionResult): string[] {
  const dir = path.join(path.resolve(out), r.name);
  const results = path.join(dir, 'results.json');
  const report = path.join(dir, 'report.md');
  writeFileAtomicSync(results, gradescopeJson(toGradescope(r)));
  writeFileAtomicSync(report, markdownReport(r, lab.rubric.title));
  return [results, report];
}
