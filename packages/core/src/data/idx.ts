/**
 * Reader for the IDX format that MNIST and Fashion-MNIST ship in. The format is a 4-byte magic
 * (two zero bytes, a type code, the number of dimensions), one big-endian uint32 per dimension,
 * then the elements in row-major order, big-endian. Files are usually gzip-compressed.
 */

import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { BadFileError, MissingFileError } from '../errors.js';

const gunzipAsync = promisify(gunzip);

/** Element types the IDX format can hold. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array that holds each {@link IdxDtype}. */
export type IdxTypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** An n-dimensional array read from an IDX file. `data` is row-major and owns its own buffer. */
export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: IdxTypedArray;
}

interface IdxType {
  dtype: IdxDtype;
  bytes: number;
  /** Makes an empty array of `length` elements. */
  make: (length: number) => IdxTypedArray;
  /** Reads one big-endian element. */
  read: (view: DataView, offset: number) => number;
}

// The type codes come from the format's definition (yann.lecun.com/exdb/mnist).
const TYPES: ReadonlyMap<number, IdxType> = new Map<number, IdxType>([
  [0x08, { dtype: 'uint8', bytes: 1, make: (n) => new Uint8Array(n), read: (v, o) => v.getUint8(o) }],
  [0x09, { dtype: 'int8', bytes: 1, make: (n) => new Int8Array(n), read: (v, o) => v.getInt8(o) }],
  [0x0b, { dtype: 'int16', bytes: 2, make: (n) => new Int16Array(n), read: (v, o) => v.getInt16(o, false) }],
  [0x0c, { dtype: 'int32', bytes: 4, make: (n) => new Int32Array(n), read: (v, o) => v.getInt32(o, false) }],
  [0x0d, { dtype: 'float32', bytes: 4, make: (n) => new Float32Array(n), read: (v, o) => v.getFloat32(o, false) }],
  [0x0e, { dtype: 'float64', bytes: 8, make: (n) => new Float64Array(n), read: (v, o) => v.getFloat64(o, false) }],
]);

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads an IDX file, gzip-compressed or raw (told apart by the gzip magic, not the file name,
 * because people unzip files and keep the name or the other way round).
 *
 * @param path - the file to read.
 * @returns the whole array; nothing is returned unless the file is complete and valid.
 * @throws MissingFileError when the file does not exist.
 * @throws BadFileError (naming the file) when the gzip data is corrupt, the magic or type code is
 *   wrong, or the data is shorter or longer than the header says.
 */
export async function readIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(path);
    throw error;
  }
  if (isGzip(bytes)) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (error) {
      throw new BadFileError(path, `corrupt gzip data (${(error as Error).message})`, { cause: error });
    }
  }
  return decodeIdx(bytes, path);
}

/**
 * Decodes IDX bytes that are already decompressed.
 *
 * @param bytes - the IDX file's content.
 * @param file - the name used in error messages.
 * @throws BadFileError when the bytes are not a complete IDX array.
 */
export function decodeIdx(bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new BadFileError(file, `too short to be an IDX file (${bytes.length} bytes)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new BadFileError(file, `not an IDX file: magic ${magic} does not start with 00 00`);
  }
  const type = TYPES.get(bytes[2]);
  if (!type) throw new BadFileError(file, `unknown IDX type code 0x${bytes[2].toString(16).padStart(2, '0')}`);

  const rank = bytes[3];
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new BadFileError(
      file,
      `truncated: header of ${rank} dimensions needs ${headerBytes} bytes, file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));

  // Compare byte counts before allocating, so a corrupt header cannot ask for gigabytes.
  const length = shape.reduce((a, b) => a * b, 1);
  const expectedBytes = headerBytes + length * type.bytes;
  if (bytes.length < expectedBytes) {
    throw new BadFileError(
      file,
      `truncated: shape [${shape.join(', ')}] of ${type.dtype} needs ${expectedBytes} bytes, file has ${bytes.length}`,
    );
  }
  // Extra bytes mean the header and the data disagree, e.g. a file cut and re-joined; refuse it.
  if (bytes.length > expectedBytes) {
    throw new BadFileError(
      file,
      `${bytes.length - expectedBytes} bytes after the data that shape [${shape.join(', ')}] of ${type.dtype} describes`,
    );
  }

  const data = type.make(length);
  if (type.bytes === 1) {
    // Single bytes have no byte order; copy so the result does not keep the whole file alive.
    data.set(
      type.dtype === 'uint8'
        ? bytes.subarray(headerBytes)
        : new Int8Array(bytes.buffer, bytes.byteOffset + headerBytes, length),
    );
  } else {
    for (let i = 0, offset = headerBytes; i < length; i++, offset += type.bytes) data[i] = type.read(view, offset);
  }
  return { dtype: type.dtype, shape, data };
}

/**
 * Encodes an array as IDX bytes (uncompressed). The inverse of {@link decodeIdx}; used to write
 * small fixtures and exported data in the same format the readers take.
 */
export function encodeIdx(array: IdxArray): Uint8Array {
  const entry = [...TYPES].find(([, t]) => t.dtype === array.dtype);
  if (!entry) throw new TypeError(`unknown IDX dtype ${array.dtype}`);
  const [code, type] = entry;
  const length = array.shape.reduce((a, b) => a * b, 1);
  if (length !== array.data.length) {
    throw new RangeError(`shape [${array.shape.join(', ')}] holds ${length} elements, data has ${array.data.length}`);
  }
  const headerBytes = 4 + 4 * array.shape.length;
  const out = new Uint8Array(headerBytes + array.data.length * type.bytes);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = array.shape.length;
  for (const [i, d] of array.shape.entries()) view.setUint32(4 + 4 * i, d, false);
  const write: Record<IdxDtype, (offset: number, value: number) => void> = {
    uint8: (o, v) => view.setUint8(o, v),
    int8: (o, v) => view.setInt8(o, v),
    int16: (o, v) => view.setInt16(o, v, false),
    int32: (o, v) => view.setInt32(o, v, false),
    float32: (o, v) => view.setFloat32(o, v, false),
    float64: (o, v) => view.setFloat64(o, v, false),
  };
  for (let i = 0; i < length; i++) write[array.dtype](headerBytes + i * type.bytes, array.data[i]);
  return out;
}
