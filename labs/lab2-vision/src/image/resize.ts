import { blankImage, type RgbImage } from './rgb-image.js';

/**
 * Bilinear resizing with OpenCV's `INTER_LINEAR` geometry (pixel centres aligned:
 * `src = (dst + 0.5) · scale − 0.5`, clamped at the border), which is what the course's
 * test-face loader (`cv2.resize`) uses. Like OpenCV it does not low-pass filter when shrinking.
 */
export function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return { width, height, data: image.data.slice() };
  const out = blankImage(width, height);
  const sx = image.width / width;
  const sy = image.height / height;
  const src = image.data;
  const w = image.width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const ay = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const ax = fx - x0;
      for (let c = 0; c < 3; c++) {
        const top = src[(y0 * w + x0) * 3 + c] * (1 - ax) + src[(y0 * w + x1) * 3 + c] * ax;
        const bottom = src[(y1 * w + x0) * 3 + c] * (1 - ax) + src[(y1 * w + x1) * 3 + c] * ax;
        out.data[(y * width + x) * 3 + c] = Math.round(top * (1 - ay) + bottom * ay);
      }
    }
  }
  return out;
}
