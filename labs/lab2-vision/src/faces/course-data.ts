import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, dataRoot, MissingDataError } from '@introdl/core';
import { readCsvTable } from './csv-table.js';

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
 *   extra/<set>/labels.csv           more face sets, one row per photo: file,person[,gender,…]
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
    extra: path.join(base, 'extra'),
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

/** One face photo of the course data, with who is in it. */
export interface FacePhoto {
  /** `london` or `extra/<set>`. */
  source: string;
  /** Absolute path. */
  file: string;
  /** The person's id within the source (London: the number before `_` in the file name). */
  person: string;
  /** Skin group × gender, where the source gives both (London). */
  group?: FaceGroup;
  /** `female`, `male`, or empty when unknown. */
  gender: string;
}

/** A person's key across sources: people of different sets are different people. */
export const personKey = (p: Pick<FacePhoto, 'source' | 'person'>): string => `${p.source}:${p.person}`;

/** The London set's photos from groups.csv, each with its person and skin group × gender. */
export function londonPhotos(londonDir: string): FacePhoto[] {
  requireFolder(londonDir, 'the London face set');
  const table = readCsvTable(
    path.join(londonDir, 'groups.csv'),
    ['file', 'skin', 'gender'],
    "the London set's group table (file,skin,gender)",
  );
  return table.rows.map(({ line, values }) => {
    const skin = values.skin.toLowerCase();
    const gender = values.gender.toLowerCase();
    if (!['lighter', 'darker'].includes(skin) || !['female', 'male'].includes(gender))
      throw new BadFileError(
        table.file,
        `line ${line}: skin must be lighter|darker and gender female|male, got "${skin}", "${gender}"`,
      );
    const file = path.join(londonDir, values.file);
    if (!existsSync(file)) throw new BadFileError(table.file, `line ${line}: ${file} does not exist`);
    // The London set names photos <person>_<pose>.jpg (001_03.jpg neutral, 001_08.jpg smiling).
    const person = /^(\d+)_/.exec(path.basename(values.file))?.[1];
    if (!person)
      throw new BadFileError(table.file, `line ${line}: "${values.file}" does not start with a person number and "_"`);
    const group = `${skin[0].toUpperCase()}${gender[0].toUpperCase()}` as FaceGroup;
    return { source: 'london', file, person, group, gender };
  });
}

/** The London set's images by skin group × gender, from groups.csv. */
export function londonGroupFiles(londonDir: string): Record<FaceGroup, string[]> {
  const out: Record<FaceGroup, string[]> = { LF: [], LM: [], DF: [], DM: [] };
  for (const p of londonPhotos(londonDir)) out[p.group!].push(p.file);
  return out;
}

/**
 * Every face set under `extra/` (one folder each, in name order), read from its `labels.csv`
 * (columns file and person; gender when given). A folder without labels.csv is an error: its
 * photos would otherwise be used without knowing who is in them, and a split by person would be
 * impossible.
 */
export function extraFaceSets(extraDir: string): { name: string; dir: string; photos: FacePhoto[] }[] {
  if (!existsSync(extraDir)) return [];
  const sets: { name: string; dir: string; photos: FacePhoto[] }[] = [];
  for (const name of readdirSync(extraDir).sort()) {
    const dir = path.join(extraDir, name);
    if (!statSync(dir).isDirectory()) continue;
    const table = readCsvTable(
      path.join(dir, 'labels.csv'),
      ['file', 'person'],
      `the label table of the face set ${name} (file,person[,gender]); see its PROVENANCE.md`,
    );
    const photos = table.rows.map(({ line, values }) => {
      const file = path.join(dir, values.file);
      if (!existsSync(file)) throw new BadFileError(table.file, `line ${line}: ${file} does not exist`);
      if (!values.person) throw new BadFileError(table.file, `line ${line}: the person is empty`);
      return { source: `extra/${name}`, file, person: values.person, gender: (values.gender ?? '').toLowerCase() };
    });
    sets.push({ name, dir, photos });
  }
  return sets;
}
