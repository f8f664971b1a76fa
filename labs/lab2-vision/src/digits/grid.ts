import { greyToRgb } from '../image/rgb-image.js';
import { svgDocument, svgImage, svgRect, svgText, writeSvgAsPng } from '../image/svg-picture.js';

/**
 * The course's prediction grid (`plot_image_prediction` over a 5×4 grid): each test image with
 * "predicted probability% (true)" under it, blue when right and red when wrong; wrong ones also get
 * a red frame so they stand out at a glance.
 */

export interface GridItem {
  /** 28×28 grey pixels in [0, 1]. */
  pixels: Float32Array;
  width: number;
  height: number;
  predicted: number;
  probability: number;
  truth: number;
}

/** Writes the grid as a PNG and returns how many items were wrong. */
export async function writePredictionGrid(
  items: GridItem[],
  classes: readonly string[],
  file: string,
  options: { columns?: number; title?: string } = {},
): Promise<{ file: string; wrong: number }> {
  const columns = options.columns ?? 5;
  const cell = 112;
  const labelHeight = 34;
  const pad = 10;
  const titleHeight = options.title ? 30 : 0;
  const rows = Math.ceil(items.length / columns);
  const width = columns * (cell + pad) + pad;
  const height = titleHeight + rows * (cell + labelHeight + pad) + pad;
  const body: string[] = [];
  if (options.title) body.push(svgText(options.title, width / 2, 20, { size: 15, anchor: 'middle', weight: 'bold' }));
  let wrong = 0;
  items.forEach((item, i) => {
    const x = pad + (i % columns) * (cell + pad);
    const y = titleHeight + pad + Math.floor(i / columns) * (cell + labelHeight + pad);
    const right = item.predicted === item.truth;
    if (!right) wrong++;
    const color = right ? '#1f4fd1' : '#d11f1f';
    body.push(svgImage(greyToRgb(item.pixels, item.width, item.height), x, y, cell, cell, true));
    if (!right) body.push(svgRect({ x: x - 2, y: y - 2, width: cell + 4, height: cell + 4 }, color, 4));
    const label = `${classes[item.predicted]} ${Math.round(100 * item.probability)}%`;
    body.push(svgText(label, x + cell / 2, y + cell + 14, { size: 11, color, anchor: 'middle' }));
    body.push(
      svgText(`(${classes[item.truth]})${right ? '' : ' ✗'}`, x + cell / 2, y + cell + 28, {
        size: 11,
        color,
        anchor: 'middle',
      }),
    );
  });
  await writeSvgAsPng(svgDocument(width, height, body), file);
  return { file, wrong };
}
