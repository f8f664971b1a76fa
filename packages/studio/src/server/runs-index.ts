import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunInfo } from '@introdl/core';

/** One file under a run's `outputs/`, path relative to the run folder (`outputs/song-0.abc`). */
export interface OutputFile {
  path: string;
  size: number;
}

/** What the Runs page lists for one run folder. */
export interface RunSummary {
  /** `<lab>/<name>`: the run's id in URLs. */
  id: string;
  lab: string;
  name: string;
  /** run.json, or undefined when it is missing or broken (then `problem` says why). */
  info?: RunInfo;
  problem?: string;
  outputs: OutputFile[];
  checkpoints: string[];
  hasLog: boolean;
}

const MAX_OUTPUTS = 500;
const NAME = /^[\w.@+-][\w.@+ -]*$/;

/** True for a folder name the studio accepts in a run id (no separators, no dot-dot). */
export function isRunPart(name: string): boolean {
  return NAME.test(name) && name !== '.' && name !== '..';
}

function listOutputs(runDir: string): OutputFile[] {
  const out: OutputFile[] = [];
  const walk = (rel: string, depth: number) => {
    if (depth > 4 || out.length >= MAX_OUTPUTS) return;
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(path.join(runDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
      if (e.name.startsWith('.')) continue; // temp files of atomic writes
      const child = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child, depth + 1);
      else if (e.isFile() && out.length < MAX_OUTPUTS) {
        out.push({ path: child, size: statSync(path.join(runDir, child)).size });
      }
    }
  };
  walk('outputs', 0);
  return out;
}

/** Reads one run folder `<runsDir>/<lab>/<name>`; undefined when it is not a run folder. */
export function readRun(runsDir: string, lab: string, name: string): RunSummary | undefined {
  if (!isRunPart(lab) || !isRunPart(name)) return undefined;
  const dir = path.join(runsDir, lab, name);
  const runJson = path.join(dir, 'run.json');
  if (!existsSync(runJson)) return undefined;
  const summary: RunSummary = {
    id: `${lab}/${name}`,
    lab,
    name,
    outputs: listOutputs(dir),
    checkpoints: [],
    hasLog: existsSync(path.join(dir, 'log.jsonl')),
  };
  try {
    summary.info = JSON.parse(readFileSync(runJson, 'utf8')) as RunInfo;
  } catch (err) {
    summary.problem = `run.json is not valid JSON (${(err as Error).message})`;
  }
  try {
    summary.checkpoints = readdirSync(path.join(dir, 'checkpoints'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    // no checkpoints folder
  }
  return summary;
}

/** Every run folder under `runsDir` (`<lab>/<name>/run.json`), newest start first. */
export function listRuns(runsDir: string): RunSummary[] {
  const runs: RunSummary[] = [];
  let labs: string[] = [];
  try {
    labs = readdirSync(runsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return runs; // no runs folder yet: an empty list, not an error
  }
  for (const lab of labs) {
    let names: string[] = [];
    try {
      names = readdirSync(path.join(runsDir, lab), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      continue;
    }
    for (const name of names) {
      const run = readRun(runsDir, lab, name);
      if (run) runs.push(run);
    }
  }
  return runs.sort((a, b) => (b.info?.start ?? '').localeCompare(a.info?.start ?? '') || a.id.localeCompare(b.id));
}
