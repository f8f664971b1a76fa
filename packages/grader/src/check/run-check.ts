import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { findWorkspace, readManifest, WORKSPACE_DIR, WorkspaceError } from '../workspace/manifest.js';
import { type CheckReport, classify, type TestOutcome } from './classify.js';

/** vitest's JSON report, the parts `check` reads. */
interface VitestJson {
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { ancestorTitles: string[]; title: string; status: string; failureMessages?: string[] }[];
  }[];
}

/** First meaningful line of a failure message, without ANSI colours, at most 300 characters. */
export function firstLine(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI colour codes
  const clean = message.replace(/\u001b\[[0-9;]*m/g, '');
  const line = clean.split('\n').find((l) => l.trim() !== '') ?? '';
  const trimmed = line.trim();
  return trimmed.length > 300 ? `${trimmed.slice(0, 297)}...` : trimmed;
}

/** Turns vitest's JSON report into outcomes (paths relative to the workspace) and file-level errors. */
export function readVitestJson(json: VitestJson, workspace: string) {
  const outcomes: TestOutcome[] = [];
  const fileErrors: { file: string; message: string }[] = [];
  for (const file of json.testResults) {
    const rel = path.relative(workspace, file.name).split(path.sep).join('/');
    if (file.status === 'failed' && file.assertionResults.length === 0) {
      fileErrors.push({ file: rel, message: firstLine(file.message ?? 'failed to run') });
    }
    for (const a of file.assertionResults) {
      const status = a.status === 'passed' ? 'passed' : a.status === 'failed' ? 'failed' : 'skipped';
      const failure = a.failureMessages?.[0];
      outcomes.push({
        file: rel,
        name: [...a.ancestorTitles, a.title].join(' > '),
        status,
        ...(failure ? { failure: firstLine(failure) } : {}),
      });
    }
  }
  return { outcomes, fileErrors };
}

/** Options of {@link runCheck}. */
export interface CheckOptions {
  /** Only these test files (default: all public tests). */
  files?: string[];
  /** Gets vitest's own output lines when set (default: discarded). */
  onOutput?: (chunk: string) => void;
}

/**
 * Runs the public tests of the workspace that contains `start` with vitest's JSON reporter and
 * classifies each exercise. Needs the workspace's dependencies installed (`npm install`).
 */
export async function runCheck(start: string, options: CheckOptions = {}): Promise<CheckReport> {
  const workspace = findWorkspace(start);
  const manifest = readManifest(workspace);
  if (manifest.publicTests.length === 0) return classify(manifest, []);
  let vitest: string;
  try {
    const req = createRequire(path.join(workspace, 'package.json'));
    vitest = path.join(path.dirname(req.resolve('vitest/package.json')), 'vitest.mjs');
  } catch {
    throw new WorkspaceError(`${workspace}: vitest is not installed; run npm install in the workspace first`);
  }
  mkdirSync(path.join(workspace, WORKSPACE_DIR), { recursive: true });
  const report = path.join(workspace, WORKSPACE_DIR, 'last-check.json');
  rmSync(report, { force: true });
  const args = [vitest, 'run', '--reporter=json', `--outputFile=${report}`, ...(options.files ?? [])];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: workspace,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    let tail = '';
    const keep = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      options.onOutput?.(s);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (c) => {
      if (!existsSync(report)) reject(new WorkspaceError(`vitest did not run (exit ${c}):\n${tail.trim()}`));
      else resolve(c ?? 1);
    });
  });
  void code; // vitest exits 1 when any test fails, which is the normal case while working.
  const json = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
  const { outcomes, fileErrors } = readVitestJson(json, workspace);
  return classify(manifest, outcomes, fileErrors);
}
