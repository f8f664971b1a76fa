import { crc32, deflateRawSync } from 'node:zlib';

/** One entry of a hand-made zip. */
export interface ZipEntry {
  name: string;
  /** Uncompressed content (stored, or deflated when `deflate`). */
  data?: Buffer | string;
  deflate?: boolean;
  /** Already-deflated bytes: the entry's data as written, for bombs. */
  raw?: Buffer;
  /** Uncompressed size to declare (defaults to the real one); larger than 4 GiB uses zip64. */
  declaredSize?: number;
  /** Unix mode, e.g. 0o120777 for a symbolic link (its data is the target). */
  mode?: number;
}

/**
 * Writes a zip byte by byte, so tests can make the archives a normal zip tool refuses to make:
 * entries named `../x`, symbolic links, sizes that lie, and 10 GB declared in a few bytes.
 */
export function makeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const content = Buffer.from(e.data ?? '');
    const body = e.raw ?? (e.deflate ? deflateRawSync(content) : content);
    const method = e.raw || e.deflate ? 8 : 0;
    const size = e.declaredSize ?? content.length;
    const zip64 = size >= 0xffffffff;
    const name = Buffer.from(e.name, 'utf8');
    const extra = zip64 ? Buffer.alloc(20) : Buffer.alloc(0);
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(16, 2);
      extra.writeBigUInt64LE(BigInt(size), 4);
      extra.writeBigUInt64LE(BigInt(body.length), 12);
    }
    const crc = crc32(content);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(zip64 ? 0xffffffff : body.length, 18);
    local.writeUInt32LE(zip64 ? 0xffffffff : size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 45, 4); // made by Unix, so the mode below is read
    central.writeUInt16LE(zip64 ? 45 : 20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(zip64 ? 0xffffffff : body.length, 20);
    central.writeUInt32LE(zip64 ? 0xffffffff : size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    const localRecord = Buffer.concat([local, name, extra, body]);
    locals.push(localRecord);
    centrals.push(Buffer.concat([central, name, extra]));
    offset += localRecord.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
