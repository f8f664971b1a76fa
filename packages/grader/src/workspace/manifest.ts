import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A problem with a student workspace. This module is bundled into the workspace's check script,
 * which has no dependencies, so it does not use @introdl/core's error classes.
 */
export class WorkspaceError extends Error {
  override name = 'WorkspaceError';
}

/** Folder inside a student workspace that holds the grader's own files. */
export const WORKSPACE_DIR = '.introdl';
/** The manifest `scaffold` writes and `check` reads. */
export const MANIFEST_FILE = `${WORKSPACE_DIR}/exercises.json`;

/** What a student workspace knows about its lab (no solutions, no hidden tests). */
export interface WorkspaceManifest {
  lab: string;
  title: string;
  /** Version of the format. */
  format: 1;
  /** `tests`: parts of public test names that belong to the exercise (besides those naming its id). */
  exercises: { id: string; title: string; hint: string; file: string; tests?: string[] }[];
  publicTests: string[];
}

/** Walks up from `start` to the folder holding `.introdl/exercises.json`. */
export function findWorkspace(start: string): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, MANIFEST_FILE))) return dir;
    if (path.dirname(dir) === dir) {
      throw new WorkspaceError(
        `${path.join(path.resolve(start), MANIFEST_FILE)}: not found; run this inside a workspace made by \`introdl scaffold\``,
      );
    }
  }
}

/** Reads and checks a workspace manifest. */
export function readManifest(workspace: string): WorkspaceManifest {
  const file = path.join(workspace, MANIFEST_FILE);
  let m: WorkspaceManifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as WorkspaceManifest;
  } catch (err) {
    throw new WorkspaceError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (m.format !== 1 || !Array.isArray(m.exercises) || !Array.isArray(m.publicTests)) {
    throw new WorkspaceError(`${file}: not a workspace manifest (format 1 with exercises and publicTests)`);
  }
  return m;
}
