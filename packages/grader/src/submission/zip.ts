import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

/** Limits that keep a hostile zip from filling the disk or the memory of the grading machine. */
export interface ZipLimits {
  /** Most entries the central directory may declare. */
  maxEntries: number;
  /** Most bytes all kept entries may declare together. */
  maxTotalBytes: number;
  /** Most bytes one kept entry may declare or inflate to. */
  maxFileBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxEntries: 20_000,
  maxTotalBytes: 64 * 1024 * 1024,
  maxFileBytes: 4 * 1024 * 1024,
};

/** A zip the grader refuses, with the reason a TA and a student can read. */
export class UnsafeZipError extends Error {
  override name = 'UnsafeZipError';
}

/** Folders a student may zip by accident; never read, never counted. */
const IGNORED = /(^|\/)(node_modules|\.git|__MACOSX|dist)(\/|$)/;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

/** Why an entry name is unsafe, or undefined when it is a plain relative path. */
export function unsafeName(name: string): string | undefined {
  if (name.includes('\\')) return 'has a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return 'climbs out of the folder with ".."';
  if (name.includes('\0')) return 'has a NUL byte';
  return undefined;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      file,
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true },
      (err, zip) => (err || !zip ? reject(err ?? new Error('cannot open')) : resolve(zip)),
    );
  });
}

function readEntries(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', reject);
    zip.readEntry();
  });
}

function entryName(e: yauzl.Entry): string {
  const raw = e.fileName as unknown as Buffer | string;
  return typeof raw === 'string' ? raw : raw.toString('utf8');
}

/**
 * Extracts from `file` only the entries `keep(name)` wants, into `dest`, after checking the whole
 * central directory first: entry count, names (no absolute paths, no `..`: zip-slip), types (no
 * symbolic links or devices), and the declared sizes of the entries that would be kept. While
 * extracting, each entry is cut off at its declared size (and `maxFileBytes`), so an entry that
 * lies about its size (a zip bomb) is caught before it fills the disk. Throws {@link UnsafeZipError}.
 * Returns the names written.
 */
export async function extractZip(
  file: string,
  dest: string,
  keep: (name: string) => boolean,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS,
): Promise<string[]> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(file);
  } catch (err) {
    throw new UnsafeZipError(`not a readable zip file (${(err as Error).message})`);
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new UnsafeZipError(`it declares ${zip.entryCount} entries (limit ${limits.maxEntries})`);
    }
    let entries: yauzl.Entry[];
    try {
      entries = await readEntries(zip);
    } catch (err) {
      throw new UnsafeZipError(`its directory is corrupt (${(err as Error).message})`);
    }
    const kept: { entry: yauzl.Entry; name: string }[] = [];
    let total = 0;
    for (const entry of entries) {
      const name = entryName(entry);
      const bad = unsafeName(name);
      if (bad) throw new UnsafeZipError(`entry "${name}" ${bad} (zip-slip)`);
      if (IGNORED.test(name)) continue;
      const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
      const isDir = name.endsWith('/') || mode === S_IFDIR;
      if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR) {
        const what = mode === 0o120000 ? 'a symbolic link' : 'not a regular file';
        throw new UnsafeZipError(`entry "${name}" is ${what}; only plain files are accepted`);
      }
      if (isDir) continue;
      total += entry.uncompressedSize;
      if (entry.uncompressedSize > limits.maxFileBytes) {
        throw new UnsafeZipError(
          `entry "${name}" expands to ${formatBytes(entry.uncompressedSize)} (limit ${formatBytes(limits.maxFileBytes)} per file): a zip bomb?`,
        );
      }
      if (total > limits.maxTotalBytes) {
        throw new UnsafeZipError(
          `its files expand to more than ${formatBytes(limits.maxTotalBytes)} (limit): a zip bomb? Zip only the src folder`,
        );
      }
      if (keep(name)) kept.push({ entry, name });
    }
    const written: string[] = [];
    for (const { entry, name } of kept) {
      const target = path.join(dest, ...name.split('/'));
      if (!target.startsWith(path.resolve(dest) + path.sep))
        throw new UnsafeZipError(`entry "${name}" leaves the folder`);
      mkdirSync(path.dirname(target), { recursive: true });
      const cap = Math.min(entry.uncompressedSize, limits.maxFileBytes);
      await copyCapped(zip, entry, target, cap, name);
      written.push(name);
    }
    return written;
  } finally {
    zip.close();
  }
}

async function copyCapped(zip: yauzl.ZipFile, entry: yauzl.Entry, target: string, cap: number, name: string) {
  const stream = await new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(entry, (err, s) => (err || !s ? reject(err) : resolve(s))),
  );
  let seen = 0;
  try {
    await pipeline(
      stream,
      async function* (source: AsyncIterable<Buffer | string>) {
        for await (const chunk of source) {
          seen += chunk.length;
          if (seen > cap) throw new UnsafeZipError(`entry "${name}" inflates past its declared size: a zip bomb`);
          yield chunk;
        }
      },
      createWriteStream(target, { flags: 'wx', mode: 0o600 }),
    );
  } catch (err) {
    if (err instanceof UnsafeZipError) throw err;
    const message = (err as Error).message;
    if (/too many bytes|expected \d+/.test(message)) {
      throw new UnsafeZipError(`entry "${name}" inflates past its declared size: a zip bomb`);
    }
    throw new UnsafeZipError(`entry "${name}" cannot be extracted (${message})`);
  }
}

/** `1.5 MB`, `10.0 GB`. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}
