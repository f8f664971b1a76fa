import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadFileError, BadFlagError, MissingFileError } from '@introdl/core';
import { parseRegions, type Region } from '../regions/parse.js';
import type { Limits, Rubric } from '../rubric/types.js';
import { limitsOf, validateRubric } from '../rubric/validate.js';
import { isSourceFile, isTestFile, listFiles, matchesPath } from './files.js';
import { importEntry, type PackageJson } from './import-entry.js';

/** One exercise: a region in the lab's solution source. */
export interface Exercise {
  id: string;
  title: string;
  hint: string;
  /** File that holds the region, relative to the lab package (`src/part1/batches.ts`). */
  file: string;
}

/** A lab as the grader sees it: its rubric, its files, and its exercise regions. */
export interface Lab {
  /** `rubric.lab`, such as `lab1`. */
  name: string;
  packageName: string;
  /** Absolute, symlinks resolved. */
  packageDir: string;
  packageJson: PackageJson;
  rubric: Rubric;
  limits: Limits;
  /** Files a student gets (relative to the package): sources minus excluded ones, plus public tests. */
  workspaceFiles: string[];
  /** Regions of each workspace file that has any. */
  regions: Map<string, Region[]>;
  /** Every exercise in source order. */
  exercises: Exercise[];
}

/**
 * Loads a lab by short name (`lab1`: the installed package `@introdl/lab1` or `@introdl/lab1-*`) or
 * by the path of its package folder. Validates the rubric and cross-checks it against the source:
 * every test's exercise is a region, every region has a test, every listed file exists.
 */
export async function loadLab(nameOrDir: string, searchFrom: string[] = defaultSearch()): Promise<Lab> {
  const packageDir = findLabDir(nameOrDir, searchFrom);
  const packageJson = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as PackageJson;
  const mod = await importEntry(packageDir, packageJson);
  if ('rubric' in mod) return labFromRubric(packageDir, packageJson, validateRubric(mod.rubric, packageJson.name));
  throw new BadFileError(packageJson.name, 'exports no `rubric`; see docs/grading.md ("What a lab exports")');
}

/** Builds a {@link Lab} from an already validated rubric. */
export function labFromRubric(packageDir: string, packageJson: PackageJson, rubric: Rubric): Lab {
  const where = `${packageJson.name} rubric`;
  const problems: string[] = [];
  const exists = (rel: string, what: string) => {
    if (!existsSync(path.join(packageDir, rel))) problems.push(`${what} ${rel} does not exist in ${packageDir}`);
  };
  for (const t of rubric.publicTests) exists(t, 'public test');
  exists(rubric.probes, 'probes module');
  if (problems.length) throw new BadFileError(where, problems.join('; '));

  const excluded = (rel: string) =>
    rel === rubric.probes || (rubric.exclude ?? []).some((p) => matchesPath(rel, p)) || isTestFile(rel);
  const files = new Set<string>();
  for (const src of rubric.sources ?? ['src']) {
    for (const rel of listFiles(packageDir, src)) if (!excluded(rel)) files.add(rel);
  }
  for (const t of rubric.publicTests) files.add(t);
  const workspaceFiles = [...files].sort();

  const regions = new Map<string, Region[]>();
  const exercises: Exercise[] = [];
  const seen = new Map<string, string>();
  for (const rel of workspaceFiles) {
    if (!isSourceFile(rel) || isTestFile(rel)) continue;
    const found = parseRegions(readFileSync(path.join(packageDir, rel), 'utf8'), path.join(packageDir, rel));
    if (!found.length) continue;
    regions.set(rel, found);
    for (const r of found) {
      const other = seen.get(r.id);
      if (other) problems.push(`exercise ${r.id} is defined twice (${other} and ${rel})`);
      seen.set(r.id, rel);
      exercises.push({ id: r.id, title: r.title, hint: r.hint, file: rel });
    }
  }
  exercises.sort((a, b) => compareIds(a.id, b.id));
  if (!exercises.length) problems.push(`no // @exercise regions in ${(rubric.sources ?? ['src']).join(', ')}`);
  const tested = new Set(rubric.tests.map((t) => t.exercise));
  for (const t of rubric.tests) {
    if (!seen.has(t.exercise)) problems.push(`test "${t.name}" grades exercise ${t.exercise}, which has no region`);
  }
  for (const e of exercises) if (!tested.has(e.id)) problems.push(`exercise ${e.id} has no test in the rubric`);
  for (const id of Object.keys(rubric.publicTestNames ?? {})) {
    if (!seen.has(id)) problems.push(`publicTestNames names exercise ${id}, which has no region`);
  }
  if (problems.length) throw new BadFileError(where, problems.join('; '));
  return {
    name: rubric.lab,
    packageName: packageJson.name,
    packageDir,
    packageJson,
    rubric,
    limits: limitsOf(rubric),
    workspaceFiles,
    regions,
    exercises,
  };
}

/** Orders `lab1.2.10` after `lab1.2.9`: numbers compare as numbers, the rest as text. */
export function compareIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function defaultSearch(): string[] {
  return [path.dirname(fileURLToPath(import.meta.url)), process.cwd()];
}

/** The package folder of a lab given by path or short name. */
export function findLabDir(nameOrDir: string, searchFrom: string[]): string {
  const asPath = path.resolve(nameOrDir);
  if (existsSync(path.join(asPath, 'package.json')) && statSync(asPath).isDirectory()) return realpathSync(asPath);
  if (!/^[a-z][\w-]*$/.test(nameOrDir))
    throw new MissingFileError(asPath, 'give a lab name such as lab1 or a lab package folder');
  const candidates = new Map<string, string>();
  for (const start of searchFrom) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const scope = path.join(dir, 'node_modules', '@introdl');
      if (existsSync(scope)) {
        for (const entry of readdirSync(scope)) {
          if (entry === nameOrDir || entry.startsWith(`${nameOrDir}-`)) {
            if (!candidates.has(entry)) candidates.set(entry, realpathSync(path.join(scope, entry)));
          }
        }
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  if (candidates.size === 1) return [...candidates.values()][0];
  if (candidates.size > 1) {
    throw new BadFlagError(`"${nameOrDir}" matches several labs (${[...candidates.keys()].join(', ')}): name one`);
  }
  throw new BadFlagError(
    `no installed lab is called "${nameOrDir}": install @introdl/${nameOrDir}-… or give its folder`,
  );
}
