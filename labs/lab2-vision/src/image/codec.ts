import { readFileSync } from 'node:fs';
import { BadFileError, MissingFileError, writeFileAtomic } from '@introdl/core';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbImage } from './rgb-image.js';

/**
 * Reading and writing PNG and JPEG files as {@link RgbImage}s. Decoding follows the course's
 * loader (`cv2.imread`): grey images become three equal channels and an alpha channel is dropped,
 * not blended.
 */

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Which format the bytes start like, or undefined. */
export function sniffImageFormat(bytes: Uint8Array): 'png' | 'jpeg' | undefined {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Drops the alpha channel of RGBA pixels. */
function rgbaToRgb(rgba: Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    data[3 * i] = rgba[j];
    data[3 * i + 1] = rgba[j + 1];
    data[3 * i + 2] = rgba[j + 2];
  }
  return { width, height, data };
}

/**
 * Decodes PNG or JPEG bytes. `name` is used in error messages.
 * @throws BadFileError for anything that is not a complete PNG or JPEG image.
 */
export function decodeImage(bytes: Uint8Array, name: string): RgbImage {
  const format = sniffImageFormat(bytes);
  if (!format) throw new BadFileError(name, 'is not a PNG or JPEG image (its first bytes are neither signature)');
  try {
    if (format === 'png') {
      // pngjs expands every colour type (grey, palette, grey+alpha) to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return rgbaToRgb(png.data, png.width, png.height);
    }
    // tolerantDecoding off: a truncated JPEG is an error, not a half-grey picture.
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
    if (!img.width || !img.height) throw new Error('no image data');
    return rgbaToRgb(img.data, img.width, img.height);
  } catch (err) {
    const reason = (err as Error).message?.split('\n')[0] ?? String(err);
    throw new BadFileError(name, `is a damaged or truncated ${format.toUpperCase()} file (${reason})`, {
      cause: err,
    });
  }
}

/** Reads and decodes an image file. */
export function readImage(file: string): RgbImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MissingFileError(file, 'Pass a PNG or JPEG image.');
    if (code === 'EISDIR') throw new BadFileError(file, 'is a folder, not an image file');
    throw err;
  }
  return decodeImage(bytes, file);
}

/** Encodes an image as PNG bytes. */
export function encodePng(image: RgbImage): Buffer {
  return PNG.sync.write(
    { width: image.width, height: image.height, data: Buffer.from(image.data) },
    { colorType: 2, inputColorType: 2, inputHasAlpha: false },
  );
}

/** Writes an image as a PNG file, atomically. */
export async function writePng(file: string, image: RgbImage): Promise<void> {
  await writeFileAtomic(file, encodePng(image));
}
