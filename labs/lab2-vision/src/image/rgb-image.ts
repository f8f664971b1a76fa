/**
 * The one in-memory image type of this lab: 8-bit RGB, row-major, interleaved (`r g b r g b …`).
 * Every decoder converts to it (grey and RGBA included), and every model input is made from it.
 */
export interface RgbImage {
  width: number;
  height: number;
  /** `width * height * 3` bytes. */
  data: Uint8Array;
}

/** A blank (black) image. */
export function blankImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/** A rectangle in pixels: left, top, width, height. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Copies the part of `image` inside `box` (clipped to the image; rounded to whole pixels). */
export function cropImage(image: RgbImage, box: Box): RgbImage {
  const x0 = Math.max(0, Math.round(box.x));
  const y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(image.width, Math.round(box.x + box.width));
  const y1 = Math.min(image.height, Math.round(box.y + box.height));
  const out = blankImage(Math.max(1, x1 - x0), Math.max(1, y1 - y0));
  for (let y = y0; y < y1; y++) {
    const row = image.data.subarray((y * image.width + x0) * 3, (y * image.width + x1) * 3);
    out.data.set(row, (y - y0) * out.width * 3);
  }
  return out;
}

/** The image mirrored left to right. */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { width, height } = image;
  const out = blankImage(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const dst = (y * width + (width - 1 - x)) * 3;
      out.data[dst] = image.data[src];
      out.data[dst + 1] = image.data[src + 1];
      out.data[dst + 2] = image.data[src + 2];
    }
  }
  return out;
}

/** An RGB image from grey pixels in [0, 1] (Fashion-MNIST's), each grey value in all three channels. */
export function greyToRgb(grey: Float32Array | Uint8Array, width: number, height: number): RgbImage {
  const out = blankImage(width, height);
  const scale = grey instanceof Float32Array ? 255 : 1;
  for (let i = 0; i < width * height; i++) {
    const v = Math.max(0, Math.min(255, Math.round(grey[i] * scale)));
    out.data[3 * i] = v;
    out.data[3 * i + 1] = v;
    out.data[3 * i + 2] = v;
  }
  return out;
}

/** Grey values in [0, 1] from an RGB image (ITU-R 601 luma, as PIL and OpenCV convert). */
export function rgbToGrey(image: RgbImage): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = (0.299 * image.data[3 * i] + 0.587 * image.data[3 * i + 1] + 0.114 * image.data[3 * i + 2]) / 255;
  }
  return out;
}

/** The image as floats in [0, 1], RGB, `[height, width, 3]` order: what the face models take. */
export function toUnitFloats(image: RgbImage): Float32Array {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = image.data[i] / 255;
  return out;
}
