/**
 * The one way data is found. Every command that needs a data set calls {@link locateDataset}, so
 * that the search order, and the message when nothing is found, are the same everywhere.
 */

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { IntrodlError, MissingDataError, MissingFileError } from '../errors.js';
import type { DatasetSpec } from './dataset-spec.js';
import { type DownloadProgress, downloadFile } from './download.js';

/** Environment variables read here; a parameter so tests do not depend on the caller's shell. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Where a located data set was found. */
export type DatasetSource = 'explicit' | 'INTRODL_DATA' | 'system' | 'cache' | 'downloaded';

/** A data set whose files all exist. */
export interface LocatedDataset {
  /** The folder holding the files. */
  dir: string;
  source: DatasetSource;
  /** Absolute path of each file, by its name in the spec. */
  files: Record<string, string>;
}

/** Options of {@link locateDataset}. */
export interface LocateOptions {
  /** A folder given by the user (`--data`); when set it must hold every file, and nothing else is tried. */
  path?: string;
  /** Set to false to never download (`--no-download`). Defaults to true. */
  download?: boolean;
  /** The fetch used for downloads. */
  fetchImpl?: typeof fetch;
  /** Called as each file downloads. */
  onProgress?: (file: string, progress: DownloadProgress) => void;
  /** Environment to read INTRODL_DATA, INTRODL_CACHE, XDG_CACHE_HOME from. Defaults to process.env. */
  env?: Env;
}

/** `INTRODL_DATA`, resolved to an absolute path, or undefined when it is not set. */
export function dataRoot(env: Env = process.env): string | undefined {
  const root = env.INTRODL_DATA;
  return root ? resolve(root) : undefined;
}

/** The cache folder: `INTRODL_CACHE`, else `$XDG_CACHE_HOME/introdl`, else `~/.cache/introdl`. */
export function cacheDir(env: Env = process.env): string {
  if (env.INTRODL_CACHE) return resolve(env.INTRODL_CACHE);
  // The XDG spec says relative values are invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'introdl');
  return join(homedir(), '.cache', 'introdl');
}

/** One place looked in, and why it did not do. */
interface Attempt {
  place: string;
  problem: string;
}

/**
 * Finds a data set's files. Tries, in order: the explicit `path`; `$INTRODL_DATA/<dataDirName>`;
 * each of the spec's system folders; `<cache>/<dataDirName>`; then downloads into the cache when
 * every file has a URL and a SHA-256 and `download` is not false.
 *
 * Files found on disk are not checksummed: packagers may recompress them (Debian's Fashion-MNIST
 * has the same content as upstream in different gzip bytes), and the readers check the content.
 *
 * @throws MissingFileError when `path` is given and lacks a file.
 * @throws MissingDataError listing every place looked and how to fix it, when nothing is found.
 */
export async function locateDataset(spec: DatasetSpec, options: LocateOptions = {}): Promise<LocatedDataset> {
  const env = options.env ?? process.env;

  if (options.path !== undefined) {
    const dir = resolve(options.path);
    if (!(await isDirectory(dir))) throw new MissingFileError(dir, `--data must be a folder holding ${fileList(spec)}`);
    const missing = await missingFiles(spec, dir);
    if (missing.length > 0) {
      throw new MissingFileError(join(dir, missing[0]), `The ${spec.name} folder must hold ${fileList(spec)}`);
    }
    return found(spec, dir, 'explicit');
  }

  const attempts: Attempt[] = [];
  const candidates: { dir: string | undefined; source: DatasetSource; label: string }[] = [
    {
      dir: maybeJoin(dataRoot(env), spec.dataDirName),
      source: 'INTRODL_DATA',
      label: `$INTRODL_DATA/${spec.dataDirName}`,
    },
    ...(spec.systemDirs ?? []).map((dir) => ({ dir, source: 'system' as const, label: dir })),
    { dir: join(cacheDir(env), spec.dataDirName), source: 'cache', label: join(cacheDir(env), spec.dataDirName) },
  ];
  for (const { dir, source, label } of candidates) {
    if (dir === undefined) {
      attempts.push({ place: label, problem: 'INTRODL_DATA is not set' });
      continue;
    }
    const problem = await folderProblem(spec, dir);
    if (problem === undefined) return found(spec, dir, source);
    attempts.push({ place: dir, problem });
  }

  const unavailable = downloadUnavailable(spec, options);
  if (unavailable !== undefined) throw new MissingDataError(notFoundMessage(spec, attempts, unavailable));

  const dir = join(cacheDir(env), spec.dataDirName);
  try {
    // Files already in the cache were checked when they were downloaded; fetch only the rest.
    for (const name of await missingFiles(spec, dir)) {
      const file = spec.files.find((f) => f.name === name)!;
      await downloadFile(file.url!, join(dir, name), {
        sha256: file.sha256!,
        fetchImpl: options.fetchImpl,
        onProgress: options.onProgress && ((progress) => options.onProgress?.(name, progress)),
      });
    }
  } catch (error) {
    if (!(error instanceof IntrodlError)) throw error;
    throw new MissingDataError(notFoundMessage(spec, attempts, `Downloading failed: ${error.message}`), {
      cause: error,
    });
  }
  return found(spec, dir, 'downloaded');
}

/** Why a download cannot be tried, or undefined when it can. */
function downloadUnavailable(spec: DatasetSpec, options: LocateOptions): string | undefined {
  if (options.download === false) return 'Downloading is turned off.';
  const unverifiable = spec.files.filter((f) => !f.url || !f.sha256).map((f) => f.name);
  if (unverifiable.length > 0) {
    return `introdl cannot download ${spec.name}: no URL with a known SHA-256 for ${unverifiable.join(', ')}.`;
  }
  return undefined;
}

function notFoundMessage(spec: DatasetSpec, attempts: Attempt[], downloadNote: string): string {
  const fixes = [
    `set INTRODL_DATA to a folder holding ${spec.dataDirName}/ with ${fileList(spec)}`,
    `pass --data <folder> holding ${fileList(spec)}`,
  ];
  if (spec.debianPackage) fixes.push(`install the Debian package: sudo apt install ${spec.debianPackage}`);
  return [
    `${spec.name} was not found. Looked in:`,
    ...attempts.map((a) => `  - ${a.place}: ${a.problem}`),
    downloadNote,
    `To fix, do one of these (the data is published at ${spec.source}):`,
    ...fixes.map((f) => `  - ${f}`),
  ].join('\n');
}

/** Why `dir` does not hold the data set, or undefined when it does. */
async function folderProblem(spec: DatasetSpec, dir: string): Promise<string | undefined> {
  if (!(await isDirectory(dir))) return 'no such folder';
  const missing = await missingFiles(spec, dir);
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined;
}

async function missingFiles(spec: DatasetSpec, dir: string): Promise<string[]> {
  const present = await Promise.all(spec.files.map((f) => isFile(join(dir, f.name))));
  return spec.files.filter((_, i) => !present[i]).map((f) => f.name);
}

function found(spec: DatasetSpec, dir: string, source: DatasetSource): LocatedDataset {
  return { dir, source, files: Object.fromEntries(spec.files.map((f) => [f.name, join(dir, f.name)])) };
}

function fileList(spec: DatasetSpec): string {
  return spec.files.map((f) => f.name).join(', ');
}

function maybeJoin(root: string | undefined, name: string): string | undefined {
  return root === undefined ? undefined : join(root, name);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** What `introdl doctor` shows about where data lives. */
export interface DataStatus {
  dataRoot: { variable: 'INTRODL_DATA'; set: boolean; path?: string; exists: boolean };
  cache: {
    path: string;
    /** Which setting chose the path. */
    from: 'INTRODL_CACHE' | 'XDG_CACHE_HOME' | 'home';
    exists: boolean;
    /** True when the folder can be written, or created if it does not exist yet. */
    writable: boolean;
  };
}

/** Reports INTRODL_DATA (set? exists?) and the cache folder (exists? writable?), for `introdl doctor`. */
export async function dataStatus(env: Env = process.env): Promise<DataStatus> {
  const root = dataRoot(env);
  const cache = cacheDir(env);
  const from = env.INTRODL_CACHE
    ? 'INTRODL_CACHE'
    : env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)
      ? 'XDG_CACHE_HOME'
      : 'home';
  return {
    dataRoot: {
      variable: 'INTRODL_DATA',
      set: root !== undefined,
      ...(root !== undefined && { path: root }),
      exists: root !== undefined && (await isDirectory(root)),
    },
    cache: { path: cache, from, exists: await isDirectory(cache), writable: await canWriteOrCreate(cache) },
  };
}

/** Whether `dir` is writable, or, when it does not exist, whether its nearest existing parent is. */
async function canWriteOrCreate(dir: string): Promise<boolean> {
  let current = dir;
  while (!(await exists(current))) {
    const parent = dirname(current);
    if (parent === current) return false;
    current = parent;
  }
  if (!(await isDirectory(current))) return false;
  return access(current, constants.W_OK).then(
    () => true,
    () => false,
  );
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}
