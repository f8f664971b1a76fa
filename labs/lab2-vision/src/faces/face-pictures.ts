import type { tf } from '@introdl/core';
import type { RgbImage } from '../image/rgb-image.js';
import { svgDocument, svgImage, svgText, writeSvgAsPng } from '../image/svg-picture.js';

/** RGB [0, 1] float images [n, 64, 64, 3] (clipped) to RgbImages. */
export function tensorToImages(x: tf.Tensor4D): RgbImage[] {
  const [n, h, w] = x.shape;
  const data = x.dataSync();
  const out: RgbImage[] = [];
  for (let i = 0; i < n; i++) {
    const img = new Uint8Array(h * w * 3);
    for (let j = 0; j < img.length; j++) img[j] = Math.round(255 * Math.min(1, Math.max(0, data[i * h * w * 3 + j])));
    out.push({ width: w, height: h, data: img });
  }
  return out;
}

/** Rows of equally sized images with a label on the left of each row, written as PNG. */
export async function writeImageRows(
  rows: { label: string; images: RgbImage[] }[],
  file: string,
  title?: string,
): Promise<string> {
  const cell = 96;
  const pad = 6;
  const labelWidth = 130;
  const top = title ? 28 : pad;
  const columns = Math.max(...rows.map((r) => r.images.length));
  const width = labelWidth + columns * (cell + pad) + pad;
  const height = top + rows.length * (cell + pad) + pad;
  const body: string[] = [];
  if (title) body.push(svgText(title, width / 2, 18, { size: 14, anchor: 'middle', weight: 'bold' }));
  rows.forEach((row, r) => {
    const y = top + r * (cell + pad);
    body.push(svgText(row.label, pad, y + cell / 2 + 5, { size: 12 }));
    row.images.forEach((img, c) => {
      body.push(svgImage(img, labelWidth + c * (cell + pad), y, cell, cell, true));
    });
  });
  return writeSvgAsPng(svgDocument(width, height, body), file);
}
