import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fillWorkspace, type Lab, loadLab, replaceBodies, scaffold, solutionBodies } from '@introdl/grader';
import type { ZipEntry } from './zip-writer.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The fixture lab: three pure functions and one tfjs layer, 20 points. */
export const LAB0_DIR = path.join(here, '..', 'fixtures', 'lab0');
export const HOSTILE_DIR = path.join(here, '..', 'fixtures', 'hostile');

let cached: Promise<Lab> | undefined;
export function lab0(): Promise<Lab> {
  cached ??= loadLab(LAB0_DIR);
  return cached;
}

const made: string[] = [];

/** A fresh temporary folder, removed by {@link removeTmpDirs}. */
export function tmp(prefix = 'introdl-grader-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes the folders {@link tmp} made (call it in afterAll). */
export function removeTmpDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A bare student workspace (node_modules linked, so nothing to install). */
export async function bareWorkspace(dir: string): Promise<string> {
  await scaffold(await lab0(), { out: dir, core: 'link' });
  return dir;
}

/** A workspace with the solution written back into every region, as a student who finished would have. */
export async function solvedWorkspace(dir: string, replace: Record<string, string> = {}): Promise<string> {
  const lab = await lab0();
  await bareWorkspace(dir);
  const bodies = solutionBodies(lab);
  for (const [id, body] of Object.entries(replace)) bodies.set(id, body);
  fillWorkspace(dir, lab, bodies);
  return dir;
}

/** Replaces one region body of a workspace file. */
export function replaceRegion(file: string, id: string, body: string): string {
  return replaceBodies(readFileSync(file, 'utf8'), file, new Map([[id, body]]));
}

/** The workspace's files (without node_modules) as zip entries under `prefix`. */
export function zipEntriesOf(dir: string, prefix = ''): ZipEntry[] {
  const out: ZipEntry[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      if (name === 'node_modules') continue;
      const r = path.join(rel, name);
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else
        out.push({
          name: `${prefix}${r.split(path.sep).join('/')}`,
          data: readFileSync(path.join(dir, r)),
          deflate: true,
        });
    }
  };
  walk('');
  return out;
}
