import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { BadFileError, MissingFileError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic.js';

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {…}}`, then the raw bytes.
 * Used for checkpoints here and for Hugging Face weights and PEFT adapters in Lab 3.
 */

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** One tensor as plain data. Half-precision and bfloat16 are decoded to Float32Array on read. */
export interface RawTensor {
  dtype: 'float32' | 'int32' | 'uint8';
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** A header entry. */
export interface TensorEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  data_offsets: [number, number];
}

/** An open safetensors file: the header is parsed and checked; tensors are read one at a time. */
export class SafetensorsFile {
  readonly entries: Map<string, TensorEntry>;
  readonly metadata: Record<string, string>;
  private readonly dataStart: number;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    header: Record<string, unknown>,
    dataStart: number,
    dataBytes: number,
  ) {
    this.dataStart = dataStart;
    this.metadata = (header.__metadata__ as Record<string, string> | undefined) ?? {};
    this.entries = new Map();
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = value as TensorEntry;
      if (!e || !(e.dtype in BYTES) || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
        throw new BadFileError(path, `tensor "${name}" has a malformed header entry`);
      }
      const [begin, end] = e.data_offsets;
      const expected = e.shape.reduce((a, b) => a * b, 1) * BYTES[e.dtype];
      if (end - begin !== expected) {
        throw new BadFileError(
          path,
          `header lies about tensor "${name}": shape [${e.shape}] ${e.dtype} needs ${expected} bytes, offsets give ${end - begin}`,
        );
      }
      if (begin < 0 || end > dataBytes) {
        throw new BadFileError(
          path,
          `truncated: tensor "${name}" ends at byte ${end} of the data section but the file holds ${dataBytes}`,
        );
      }
      this.entries.set(name, e);
    }
  }

  /** Opens and validates a file. Throws {@link BadFileError} naming the file for any defect. */
  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      throw new MissingFileError(path);
    }
    try {
      const size = fstatSync(fd).size;
      if (size < 8) throw new BadFileError(path, `truncated: ${size} bytes, not even a safetensors header length`);
      const lenBuf = Buffer.alloc(8);
      readSync(fd, lenBuf, 0, 8, 0);
      const headerLen = Number(lenBuf.readBigUInt64LE(0));
      if (headerLen > size - 8 || headerLen > 100_000_000) {
        throw new BadFileError(
          path,
          `not a safetensors file or truncated: header length ${headerLen} but the file has ${size} bytes`,
        );
      }
      const headerBuf = Buffer.alloc(headerLen);
      readSync(fd, headerBuf, 0, headerLen, 8);
      let header: Record<string, unknown>;
      try {
        header = JSON.parse(headerBuf.toString('utf8'));
      } catch {
        throw new BadFileError(path, 'corrupt safetensors header (not JSON)');
      }
      return new SafetensorsFile(path, fd, header, 8 + headerLen, size - 8 - headerLen);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Reads one tensor from disk into a new typed array (F16/BF16 become float32). */
  read(name: string): RawTensor {
    const e = this.entries.get(name);
    if (!e) throw new BadFileError(this.path, `has no tensor "${name}"`);
    const [begin, end] = e.data_offsets;
    const bytes = Buffer.alloc(end - begin);
    readSync(this.fd, bytes, 0, bytes.length, this.dataStart + begin);
    return { shape: e.shape, ...decode(e.dtype, bytes, this.path, name) };
  }

  /**
   * One tensor's bytes as stored (little-endian, its header dtype), without decoding: Lab 3 keeps
   * bfloat16/float16 weights in 16 bits.
   */
  readBytes(name: string): Buffer {
    const e = this.entries.get(name);
    if (!e) throw new BadFileError(this.path, `has no tensor "${name}"`);
    const [begin, end] = e.data_offsets;
    const bytes = Buffer.alloc(end - begin);
    readSync(this.fd, bytes, 0, bytes.length, this.dataStart + begin);
    return bytes;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function decode(dtype: SafetensorsDtype, bytes: Buffer, file: string, name: string): Pick<RawTensor, 'dtype' | 'data'> {
  const n = bytes.length / BYTES[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return { dtype: 'float32', data: out };
    }
    case 'F64': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      return { dtype: 'float32', data: out };
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return { dtype: 'float32', data: out };
    }
    case 'BF16': {
      const out = new Float32Array(n);
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      return { dtype: 'float32', data: out };
    }
    case 'I32':
    case 'I16':
    case 'I8':
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        if (dtype === 'I32') out[i] = view.getInt32(i * 4, true);
        else if (dtype === 'I16') out[i] = view.getInt16(i * 2, true);
        else if (dtype === 'I8') out[i] = view.getInt8(i);
        else {
          const v = view.getBigInt64(i * 8, true);
          if (v > 2147483647n || v < -2147483648n)
            throw new BadFileError(file, `tensor "${name}" has an int64 value outside int32`);
          out[i] = Number(v);
        }
      }
      return { dtype: 'int32', data: out };
    }
    case 'U8':
    case 'BOOL':
      return { dtype: 'uint8', data: new Uint8Array(bytes) };
  }
}

/** IEEE 754 half precision to a JavaScript number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Reads every tensor of a file. */
export function readSafetensors(path: string): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const file = SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, RawTensor>();
    for (const name of file.entries.keys()) tensors.set(name, file.read(name));
    return { tensors, metadata: file.metadata };
  } finally {
    file.close();
  }
}

const DTYPE_OUT: Record<RawTensor['dtype'], SafetensorsDtype> = { float32: 'F32', int32: 'I32', uint8: 'U8' };

/** Serialises tensors (F32, I32, U8) to safetensors bytes; names are sorted for a stable layout. */
export function encodeSafetensors(tensors: Map<string, RawTensor>, metadata: Record<string, string> = {}): Buffer {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = t.data.byteLength;
    header[name] = { dtype: DTYPE_OUT[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data to 8 bytes
  const headerBuf = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBuf.length + offset);
  out.writeBigUInt64LE(BigInt(headerBuf.length), 0);
  headerBuf.copy(out, 8);
  let pos = 8 + headerBuf.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, pos);
    pos += t.data.byteLength;
  }
  return out;
}

/** Writes a safetensors file atomically (temp file, then rename). */
export function writeSafetensors(
  path: string,
  tensors: Map<string, RawTensor>,
  metadata: Record<string, string> = {},
): void {
  writeFileAtomicSync(path, encodeSafetensors(tensors, metadata));
}
