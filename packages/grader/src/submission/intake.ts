import { closeSync, constants, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Lab } from '../lab/load-lab.js';
import { parseRegions } from '../regions/parse.js';
import { DEFAULT_ZIP_LIMITS, extractZip, formatBytes, UnsafeZipError, type ZipLimits } from './zip.js';

/** What the grader takes from one submission: the student's body of each exercise region. */
export interface Intake {
  /** Region bodies by exercise id (only for regions found intact). */
  bodies: Map<string, string>;
  /** Per exercise: why its region could not be read (shown with its tests). */
  problems: Map<string, string>;
  /** Set when the whole submission is refused (unsafe zip, nothing found): every test scores 0. */
  rejected?: string;
  /** Where the workspace root was found, relative to the submission (for the report). */
  root?: string;
}

/** A submission is refused as a whole. */
class Rejected extends Error {}

/**
 * Reads a submission (a folder or a .zip) without trusting it: zips are checked and extracted with
 * {@link extractZip} into `scratch` (a folder only the grader can read); in folders no symbolic link
 * is followed and no file above `maxFileBytes` is read. The workspace root is wherever the lab's
 * exercise files sit (the submission itself, or a folder inside it), and only the exercise
 * regions are taken from it: everything else the student changed is ignored.
 */
export async function readSubmission(
  lab: Lab,
  submission: string,
  scratch: string,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<Intake> {
  const intake: Intake = { bodies: new Map(), problems: new Map() };
  try {
    let folder = submission;
    const st = lstatSync(submission, { throwIfNoEntry: false });
    if (!st) throw new Rejected(`${submission} does not exist`);
    if (st.isSymbolicLink()) throw new Rejected('the submission is a symbolic link');
    const files = [...lab.regions.keys()];
    if (st.isFile()) {
      if (!/\.zip$/i.test(submission)) throw new Rejected('give a folder or a .zip file');
      folder = mkdtempSync(path.join(scratch, 'zip-'));
      const wanted = (name: string) => files.some((f) => name === f || name.endsWith(`/${f}`));
      await extractZip(submission, folder, wanted, limits);
    } else if (!st.isDirectory()) throw new Rejected('not a folder or a file');
    const root = findRoot(folder, files);
    if (root === undefined) {
      throw new Rejected(
        `none of the exercise files (${files.join(', ')}) is in it: submit your workspace or its src folder`,
      );
    }
    intake.root = root || '.';
    for (const [rel, regions] of lab.regions) {
      const text = readSafely(path.join(folder, root), rel, limits.maxFileBytes);
      if (typeof text !== 'string') {
        for (const r of regions) intake.problems.set(r.id, `${rel}: ${text.problem}`);
        continue;
      }
      let found: ReturnType<typeof parseRegions>;
      try {
        found = parseRegions(text, rel);
      } catch (err) {
        const why = (err as Error).message;
        for (const r of regions) intake.problems.set(r.id, `the exercise markers in ${why}`);
        continue;
      }
      for (const r of regions) {
        const mine = found.find((f) => f.id === r.id);
        if (mine) intake.bodies.set(r.id, mine.body);
        else intake.problems.set(r.id, `${rel} has no region ${r.id}: keep its // @exercise and // @end lines`);
      }
    }
  } catch (err) {
    if (err instanceof Rejected || err instanceof UnsafeZipError) intake.rejected = err.message;
    else throw err;
  }
  return intake;
}

/**
 * The folder (relative to `folder`, '' for itself) under which most exercise files exist, looking
 * at most 3 levels down, never through symbolic links or into node_modules.
 */
function findRoot(folder: string, files: string[]): string | undefined {
  const votes = new Map<string, number>();
  const visit = (rel: string, depth: number) => {
    const hits = files.filter((f) => isPlainFile(folder, path.join(rel, f))).length;
    if (hits) votes.set(rel, hits);
    if (depth === 3) return;
    let entries: string[];
    try {
      entries = readdirSync(path.join(folder, rel));
    } catch {
      return;
    }
    for (const e of entries.sort()) {
      if (e === 'node_modules' || e.startsWith('.')) continue;
      const st = lstatSync(path.join(folder, rel, e));
      if (st.isDirectory()) visit(path.join(rel, e), depth + 1);
    }
  };
  visit('', 0);
  let best: string | undefined;
  for (const [rel, n] of votes) if (best === undefined || n > (votes.get(best) ?? 0)) best = rel;
  return best;
}

/** True when `rel` under `folder` is a file (or a link, which {@link readSafely} refuses later). */
function isPlainFile(folder: string, rel: string): boolean {
  let p = folder;
  const parts = rel.split(/[\\/]/).filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    p = path.join(p, parts[i]);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return false;
    // Links count here so the root is still found; readSafely then refuses them with a reason.
    const ok = st.isSymbolicLink() || (i < parts.length - 1 ? st.isDirectory() : st.isFile());
    if (!ok) return false;
  }
  return true;
}

/** Reads `root/rel` unless a component is a symbolic link or the file is too big. */
function readSafely(root: string, rel: string, maxBytes: number): string | { problem: string } {
  let p = root;
  const parts = rel.split('/');
  for (let i = 0; i < parts.length; i++) {
    p = path.join(p, parts[i]);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return { problem: 'missing from the submission' };
    if (st.isSymbolicLink()) return { problem: 'is a symbolic link; submit the file itself' };
    if (i === parts.length - 1) {
      if (!st.isFile()) return { problem: 'is not a regular file' };
      if (st.size > maxBytes) return { problem: `is ${formatBytes(st.size)} (limit ${formatBytes(maxBytes)})` };
    }
  }
  // O_NOFOLLOW: the last component cannot have become a link since the check above.
  const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
