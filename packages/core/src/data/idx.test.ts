import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadFileError, MissingFileError } from '../errors.js';
import { FASHION_MNIST } from './fashion-mnist.js';
import { decodeIdx, encodeIdx, readIdx } from './idx.js';
import { locateDataset } from './locate.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'introdl-idx-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** A raw IDX file of uint8 [2, 3] holding 1..6, written byte by byte from the format's definition. */
const UINT8_2x3 = Uint8Array.from([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]);

describe('readIdx', () => {
  it('reads a raw uint8 file', async () => {
    const result = await readIdx(await write('raw.idx', UINT8_2x3));
    expect(result.dtype).toBe('uint8');
    expect(result.shape).toEqual([2, 3]);
    expect(result.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(result.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads a gzipped file the same as the raw one', async () => {
    const result = await readIdx(await write('gz.idx.gz', gzipSync(UINT8_2x3)));
    expect(result.shape).toEqual([2, 3]);
    expect(Array.from(result.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('detects gzip by content, not by the file name', async () => {
    const result = await readIdx(await write('no-extension', gzipSync(UINT8_2x3)));
    expect(Array.from(result.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('decodes big-endian int16, int32, float32 and float64', async () => {
    // int16 [2] = -2, 258: big-endian ff fe, 01 02.
    const int16 = await readIdx(await write('i16', Uint8Array.from([0, 0, 0x0b, 1, 0, 0, 0, 2, 0xff, 0xfe, 1, 2])));
    expect(int16.dtype).toBe('int16');
    expect(Array.from(int16.data)).toEqual([-2, 258]);
    // int32 [1] = 0x01020304 = 16909060.
    const int32 = await readIdx(await write('i32', Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 1, 1, 2, 3, 4])));
    expect(Array.from(int32.data)).toEqual([16909060]);
    // float32 [1] = 1.5 = 0x3fc00000.
    const f32 = await readIdx(await write('f32', Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0])));
    expect(f32.dtype).toBe('float32');
    expect(Array.from(f32.data)).toEqual([1.5]);
    // float64 [1] = -2 = 0xc000000000000000.
    const f64bytes = Uint8Array.from([0, 0, 0x0e, 1, 0, 0, 0, 1, 0xc0, 0, 0, 0, 0, 0, 0, 0]);
    const f64 = await readIdx(await write('f64', f64bytes));
    expect(Array.from(f64.data)).toEqual([-2]);
  });

  it('reads int8 with its sign', async () => {
    const result = await readIdx(await write('i8', Uint8Array.from([0, 0, 0x09, 1, 0, 0, 0, 3, 0xff, 0x80, 0x7f])));
    expect(Array.from(result.data)).toEqual([-1, -128, 127]);
  });

  it('round-trips through encodeIdx for every dtype', () => {
    const arrays = [
      { dtype: 'int16', shape: [3], data: Int16Array.from([-300, 0, 300]) },
      { dtype: 'int32', shape: [1, 2], data: Int32Array.from([-70000, 70000]) },
      { dtype: 'float32', shape: [2], data: Float32Array.from([0.25, -3.5]) },
      { dtype: 'float64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    ] as const;
    for (const array of arrays) {
      const decoded = decodeIdx(encodeIdx({ ...array, shape: [...array.shape] }), 'mem');
      expect(decoded.dtype).toBe(array.dtype);
      expect(decoded.shape).toEqual(array.shape);
      expect(Array.from(decoded.data)).toEqual(Array.from(array.data));
    }
  });

  it('throws MissingFileError for a file that does not exist', async () => {
    const path = join(dir, 'absent.idx');
    const error = await readIdx(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingFileError);
    expect((error as Error).message).toContain(path);
  });

  const corruptions: [string, Uint8Array, RegExp][] = [
    ['a bad magic', Uint8Array.from([0x50, 0x4b, 0x08, 1, 0, 0, 0, 1, 7]), /not an IDX file/],
    ['an unknown type code', Uint8Array.from([0, 0, 0x0a, 1, 0, 0, 0, 1, 7]), /unknown IDX type code 0x0a/],
    [
      'data shorter than the header says',
      UINT8_2x3.subarray(0, UINT8_2x3.length - 1),
      /truncated.*needs 18 bytes, file has 17/,
    ],
    ['a header cut short', UINT8_2x3.subarray(0, 9), /truncated: header/],
    ['bytes after the data', Uint8Array.from([...UINT8_2x3, 9]), /1 bytes after the data/],
    ['corrupt gzip', gzipSync(UINT8_2x3).subarray(0, 12), /corrupt gzip/],
  ];
  for (const [what, bytes, problem] of corruptions) {
    it(`reports ${what} as a BadFileError naming the file`, async () => {
      const path = await write(`bad-${what.replaceAll(' ', '-')}`, bytes);
      const error = await readIdx(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadFileError);
      expect((error as BadFileError).file).toBe(path);
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toMatch(problem);
    });
  }

  it('reports truncated data inside a valid gzip stream', async () => {
    const path = await write('short.gz', gzipSync(UINT8_2x3.subarray(0, 15)));
    await expect(readIdx(path)).rejects.toThrow(/truncated/);
  });
});

// The Debian package dataset-fashion-mnist installs the files; elsewhere INTRODL_DATA may point at them.
const fashion = await locateDataset(FASHION_MNIST, { download: false }).catch(() => undefined);

describe.skipIf(!fashion)('readIdx on the real Fashion-MNIST files', () => {
  it('reads the test labels', async () => {
    const labels = await readIdx(fashion!.files['t10k-labels-idx1-ubyte.gz']);
    expect(labels.dtype).toBe('uint8');
    expect(labels.shape).toEqual([10000]);
    expect(Array.from(labels.data.subarray(0, 5))).toEqual([9, 2, 1, 1, 6]);
  });

  it('reads the test images', async () => {
    const images = await readIdx(fashion!.files['t10k-images-idx3-ubyte.gz']);
    expect(images.shape).toEqual([10000, 28, 28]);
  });
});
