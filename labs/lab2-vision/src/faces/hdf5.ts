import fs, { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { BadFileError, MissingFileError } from '@introdl/core';
import type h5wasmModule from 'h5wasm/node';

/**
 * h5wasm, wrapped: the HDF5 library prints its error stack to stderr and h5wasm returns an invalid
 * id rather than throwing, so every call here checks first (the file exists and is HDF5), captures
 * that noise, and turns failures into one {@link BadFileError} naming the file.
 */

type H5 = typeof h5wasmModule;
export type H5File = InstanceType<H5['File']>;
export type H5Dataset = InstanceType<H5['Dataset']>;

let loading: Promise<H5> | undefined;

/** Loads the HDF5 wasm module once, on first use (so commands that never touch HDF5 do not pay for it). */
export function h5Ready(): Promise<H5> {
  loading ??= import('h5wasm/node').then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return loading;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether the file has an HDF5 superblock signature at 0, 512, 1024, 2048, … (where HDF5 may put it). */
export function looksLikeHdf5(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const buf = Buffer.alloc(8);
    for (let offset = 0; offset + 8 <= size; offset = offset === 0 ? 512 : offset * 2) {
      readSync(fd, buf, 0, 8, offset);
      if (SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs `fn` with stderr captured; returns its result and the last HDF5 "minor" message if it
 * printed one. The HDF5 library prints through Emscripten's raw file system, i.e. `fs.writeSync`
 * on descriptor 2, so that is what is intercepted (and put back straight after).
 */
export function quietly<T>(fn: () => T): { value: T; diagnostic?: string } {
  const writeSync = fs.writeSync;
  const stderrWrite = process.stderr.write;
  let captured = '';
  const keep = (chunk: unknown, offset?: unknown, length?: unknown) => {
    if (typeof chunk === 'string') captured += chunk;
    else if (ArrayBuffer.isView(chunk)) {
      // Emscripten passes its heap (an Int8Array) with an offset and length.
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const start = typeof offset === 'number' ? offset : 0;
      const end = typeof length === 'number' ? start + length : bytes.length;
      captured += Buffer.from(bytes.subarray(start, end)).toString();
    }
  };
  fs.writeSync = ((fd: number, chunk: unknown, offset?: unknown, length?: unknown, ...rest: unknown[]) => {
    if (fd === 2) {
      keep(chunk, offset, length);
      if (typeof chunk === 'string') return Buffer.byteLength(chunk);
      return typeof length === 'number' ? length : (chunk as ArrayBufferView).byteLength;
    }
    return (writeSync as (...a: unknown[]) => number)(fd, chunk, offset, length, ...rest);
  }) as typeof fs.writeSync;
  process.stderr.write = ((chunk: unknown) => {
    keep(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const value = fn();
    const minors = [...captured.matchAll(/minor: (.*)/g)].map((m) => m[1].trim());
    return { value, diagnostic: minors.length ? minors[minors.length - 1] : undefined };
  } finally {
    fs.writeSync = writeSync;
    process.stderr.write = stderrWrite;
  }
}

/** Opens an existing HDF5 file for reading. */
export async function openHdf5(file: string): Promise<H5File> {
  const h5 = await h5Ready();
  if (!existsSync(file)) throw new MissingFileError(file, 'Pass an HDF5 file such as train_face.h5.');
  if (statSync(file).isDirectory()) throw new BadFileError(file, 'is a folder, not an HDF5 file');
  if (!looksLikeHdf5(file)) throw new BadFileError(file, 'is not an HDF5 file (no HDF5 signature)');
  const { value: f, diagnostic } = quietly(() => new h5.File(file, 'r'));
  if (f.file_id < 0n)
    throw new BadFileError(
      file,
      `cannot be opened as HDF5 (${diagnostic ?? 'damaged'}); the file may be truncated or corrupt`,
    );
  return f;
}

/** Reads `ranges` of a dataset, turning HDF5 failures (a truncated file) into a BadFileError. */
export function readSlice(file: string, dataset: H5Dataset, ranges: [number, number][]): ArrayLike<number> {
  let out: unknown;
  let diagnostic: string | undefined;
  try {
    ({ value: out, diagnostic } = quietly(() => dataset.slice(ranges)));
  } catch (err) {
    throw new BadFileError(file, `cannot read ${dataset.path}: ${(err as Error).message}`, { cause: err });
  }
  if (!out || diagnostic) {
    throw new BadFileError(
      file,
      `cannot read ${dataset.path}${diagnostic ? ` (${diagnostic})` : ''}: the file may be truncated`,
    );
  }
  return out as ArrayLike<number>;
}
