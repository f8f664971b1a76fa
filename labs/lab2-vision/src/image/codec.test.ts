import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, MissingFileError, Rng } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import { randomImage, tempDir, writeJpeg, writePngChannels } from '../../test/fixtures.js';
import { decodeImage, encodePng, readImage, writePng } from './codec.js';

describe('image decoding', () => {
  const dir = tempDir();

  it('round-trips an RGB PNG exactly', async () => {
    const img = randomImage(7, 5, new Rng(1));
    const file = path.join(dir, 'rgb.png');
    await writePng(file, img);
    const back = readImage(file);
    expect([back.width, back.height]).toEqual([7, 5]);
    expect(Buffer.from(back.data).equals(Buffer.from(img.data))).toBe(true);
  });

  it('turns a grey PNG into three equal channels', () => {
    const file = path.join(dir, 'grey.png');
    writePngChannels(file, 4, 3, 1, (x, y) => [10 * x + 50 * y]);
    const img = readImage(file);
    expect(Array.from(img.data.subarray(0, 6))).toEqual([0, 0, 0, 10, 10, 10]);
    const last = (3 * 4 - 1) * 3;
    expect(Array.from(img.data.subarray(last, last + 3))).toEqual([130, 130, 130]);
  });

  it('drops the alpha channel of an RGBA PNG without blending (as cv2.imread does)', () => {
    const file = path.join(dir, 'rgba.png');
    writePngChannels(file, 2, 1, 4, () => [200, 100, 50, 0]);
    expect(Array.from(readImage(file).data)).toEqual([200, 100, 50, 200, 100, 50]);
  });

  it('decodes a JPEG close to the original pixels', () => {
    const rng = new Rng(2);
    const img = { width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).fill(0) };
    for (let i = 0; i < img.data.length; i += 3) img.data.set([120 + rng.int(10), 60, 200], i);
    const file = path.join(dir, 'photo.jpg');
    writeJpeg(file, img);
    const back = readImage(file);
    expect([back.width, back.height]).toEqual([16, 16]);
    let err = 0;
    for (let i = 0; i < img.data.length; i++) err = Math.max(err, Math.abs(back.data[i] - img.data[i]));
    expect(err).toBeLessThan(20);
  });

  it('names the file when it is not an image', () => {
    const file = path.join(dir, 'notes.png');
    writeFileSync(file, 'just text');
    expect(() => readImage(file)).toThrow(BadFileError);
    expect(() => readImage(file)).toThrow(/notes\.png: is not a PNG or JPEG image/);
  });

  it('rejects a truncated PNG and a truncated JPEG with a clear error', () => {
    const png = encodePng(randomImage(32, 32, new Rng(3)));
    expect(() => decodeImage(png.subarray(0, png.length / 2), 'half.png')).toThrow(
      /half\.png: is a damaged or truncated PNG/,
    );
    const jpgFile = path.join(dir, 'full.jpg');
    writeJpeg(jpgFile, randomImage(32, 32, new Rng(4)));
    const jpg = readFileSync(jpgFile);
    expect(() => decodeImage(jpg.subarray(0, jpg.length / 2), 'half.jpg')).toThrow(
      /half\.jpg: is a damaged or truncated JPEG/,
    );
  });

  it('says which file is missing', () => {
    expect(() => readImage(path.join(dir, 'absent.png'))).toThrow(MissingFileError);
  });
});
