import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, dataRoot, MissingDataError } from '@introdl/core';

/**
 * Where Lab 2's face data lives. Under the data root (`--data DIR`, else `$INTRODL_DATA`):
 *
 * ```
 * lab2-faces/
 *   test_faces/{LF,LM,DF,DM}/*.png   the course's 20 test faces, 5 per group (RGBA, any size)
 *   london/                          the Face Research Lab London Set: portrait photos (.jpg/.png,
 *     groups.csv                     in any subfolders) and a table "file,skin,gender" with
 *                                    skin ∈ {lighter, darker}, gender ∈ {female, male}, file
 *                                    relative to london/
 *   nonface-cc0/*.{png,jpg}          CC0 / public-domain photos used for negatives and detection
 * ```
 * Fashion-MNIST (for up-sampled negatives) is found the usual way (core's locateDataset).
 */

export const FACE_GROUPS = ['LF', 'LM', 'DF', 'DM'] as const;
export type FaceGroup = (typeof FACE_GROUPS)[number];
export const GROUP_NAMES: Record<FaceGroup, string> = {
  LF: 'lighter female',
  LM: 'lighter male',
  DF: 'darker female',
  DM: 'darker male',
};

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** The data root: `explicit`, else INTRODL_DATA. */
export function faceDataRoot(explicit?: string): string {
  const root = explicit ? path.resolve(explicit) : dataRoot();
  if (!root)
    throw new MissingDataError(
      'the Lab 2 face data needs a data folder: pass --data DIR or set INTRODL_DATA to the folder holding lab2-faces/',
    );
  return root;
}

/** The lab2-faces folders under a data root (which may or may not exist). */
export function faceFolders(root: string) {
  const base = path.join(root, 'lab2-faces');
  return {
    base,
    testFaces: path.join(base, 'test_faces'),
    london: path.join(base, 'london'),
    londonGroups: path.join(base, 'london', 'groups.csv'),
    nonFaces: path.join(base, 'nonface-cc0'),
  };
}

/** Throws a MissingDataError naming `folder`, what it is and where it should be, unless it is a folder. */
export function requireFolder(folder: string, what: string): void {
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new MissingDataError(
      `${folder}: ${what} not found. Put it there (see docs/lab2.md, "Data"), or pass --data DIR pointing at the folder that holds lab2-faces/`,
    );
}

/** Image files under `dir` (recursively), sorted by path. */
export function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (IMAGE_EXT.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The course's test faces by group: `test_faces/<G>/*.png` in sorted filename order. */
export function testFaceFiles(testFacesDir: string): Record<FaceGroup, string[]> {
  requireFolder(testFacesDir, "the course's test faces (test_faces/{LF,LM,DF,DM})");
  const out = {} as Record<FaceGroup, string[]>;
  for (const g of FACE_GROUPS) {
    const dir = path.join(testFacesDir, g);
    requireFolder(dir, `the test-face group ${g} (${GROUP_NAMES[g]})`);
    out[g] = listImages(dir);
  }
  return out;
}

/** The London set's images by skin group × gender, from groups.csv. */
export function londonGroupFiles(londonDir: string): Record<FaceGroup, string[]> {
  requireFolder(londonDir, 'the London face set');
  const csv = path.join(londonDir, 'groups.csv');
  if (!existsSync(csv))
    throw new MissingDataError(`${csv}: the London set's group table (file,skin,gender) is missing`);
  const lines = readFileSync(csv, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim());
  const header = lines[0].split(',').map((h) => h.trim().toLowerCase());
  const [fi, si, gi] = ['file', 'skin', 'gender'].map((c) => header.indexOf(c));
  if (fi < 0 || si < 0 || gi < 0)
    throw new BadFileError(csv, `needs the columns file,skin,gender; it has ${header.join(',')}`);
  const out: Record<FaceGroup, string[]> = { LF: [], LM: [], DF: [], DM: [] };
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const skin = cells[si]?.toLowerCase();
    const gender = cells[gi]?.toLowerCase();
    if (!['lighter', 'darker'].includes(skin) || !['female', 'male'].includes(gender))
      throw new BadFileError(
        csv,
        `row ${i + 2}: skin must be lighter|darker and gender female|male, got "${skin}", "${gender}"`,
      );
    const group = `${skin[0].toUpperCase()}${gender[0].toUpperCase()}` as FaceGroup;
    const file = path.join(londonDir, cells[fi]);
    if (!existsSync(file)) throw new BadFileError(csv, `row ${i + 2}: ${file} does not exist`);
    out[group].push(file);
  });
  return out;
}
