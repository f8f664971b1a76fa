import { svgToPng, writeFileAtomic } from '@introdl/core';
import { encodePng } from './codec.js';
import type { Box, RgbImage } from './rgb-image.js';

/**
 * Pictures made of images, text and boxes (prediction grids, detections, reconstructions): drawn
 * as SVG with the images embedded as PNG, then rasterised by core's resvg renderer, so text uses a
 * real font rather than a hand-drawn one.
 */

/** Escapes text for SVG. */
export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** An `<image>` element showing `image` at (x, y) scaled to w × h; `pixelated` keeps small images sharp. */
export function svgImage(image: RgbImage, x: number, y: number, w: number, h: number, pixelated = false): string {
  const href = `data:image/png;base64,${encodePng(image).toString('base64')}`;
  const rendering = pixelated ? ' image-rendering="optimizeSpeed"' : '';
  return `<image x="${x}" y="${y}" width="${w}" height="${h}" preserveAspectRatio="none"${rendering} href="${href}"/>`;
}

/** A text element. */
export function svgText(
  text: string,
  x: number,
  y: number,
  options: { size?: number; color?: string; anchor?: 'start' | 'middle' | 'end'; weight?: 'normal' | 'bold' } = {},
): string {
  const { size = 12, color = '#000', anchor = 'start', weight = 'normal' } = options;
  return `<text x="${x}" y="${y}" font-family="DejaVu Sans" font-size="${size}" font-weight="${weight}" fill="${color}" text-anchor="${anchor}">${escapeXml(text)}</text>`;
}

/** An unfilled rectangle. */
export function svgRect(box: Box, color: string, strokeWidth = 2, dash?: string): string {
  const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
  return `<rect x="${box.x}" y="${box.y}" width="${box.width}" height="${box.height}" fill="none" stroke="${color}" stroke-width="${strokeWidth}"${dashAttr}/>`;
}

/** A whole SVG document of the given size on a white background. */
export function svgDocument(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** Rasterises an SVG document and writes it as PNG (atomically). Returns the path. */
export async function writeSvgAsPng(svg: string, file: string): Promise<string> {
  await writeFileAtomic(file, svgToPng(svg));
  return file;
}
