import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { lineChartSpec, lossCurveSpec, writeLossPlot } from './loss-plot.js';
import { rasterizeSvg, renderVegaLite, svgToPng } from './render.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'introdl-plot-'));
  return () => rm(dir, { recursive: true, force: true });
});

const LOSS = {
  title: 'Fashion-MNIST loss',
  series: [
    {
      name: 'train',
      points: Array.from({ length: 20 }, (_, i) => ({ step: i * 100, value: 2.3 * Math.exp(-i / 6) + 0.2 })),
    },
    {
      name: 'validation',
      points: Array.from({ length: 5 }, (_, i) => ({ step: i * 400, value: 2.3 * Math.exp(-i / 2) + 0.35 })),
    },
  ],
};

/** Width and height from a PNG's IHDR chunk, which the format puts right after the signature. */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Counts RGBA pixels within `tolerance` of an sRGB colour. */
function countPixels(pixels: Uint8Array, [r, g, b]: [number, number, number], tolerance = 40): number {
  let count = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) <= tolerance) count++;
  }
  return count;
}

// Vega's default category colours, in the order of the series.
const BLUE: [number, number, number] = [0x4c, 0x78, 0xa8];
const ORANGE: [number, number, number] = [0xf5, 0x85, 0x18];

describe('lossCurveSpec', () => {
  it('holds one row per point, in the series order', () => {
    const spec = lossCurveSpec(LOSS) as { data: { values: { series: string; x: number; y: number }[] } };
    expect(spec.data.values).toHaveLength(25);
    expect(spec.data.values[0]).toEqual({ series: 'train', x: 0, y: 2.5 });
    expect(spec.data.values[20]).toMatchObject({ series: 'validation', x: 0 });
  });

  it('drops non-finite points, and non-positive ones on a log axis', () => {
    const series = [
      {
        name: 's',
        points: [
          { x: 0, y: 1 },
          { x: 1, y: Number.NaN },
          { x: 2, y: 0 },
          { x: 3, y: -1 },
        ],
      },
    ];
    const linear = lineChartSpec({ title: 't', series }) as { data: { values: unknown[] } };
    const log = lineChartSpec({ title: 't', series, logY: true }) as { data: { values: unknown[] } };
    expect(linear.data.values).toHaveLength(3);
    expect(log.data.values).toHaveLength(1);
  });
});

describe('rendering a loss plot', () => {
  it('renders an SVG with both series, their lines and the axis titles', async () => {
    const svg = await renderVegaLite(lossCurveSpec({ ...LOSS, logY: true }));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Fashion-MNIST loss');
    expect(svg).toContain('>train<');
    expect(svg).toContain('>validation<');
    expect(svg).toContain('>step<');
    expect(svg).toContain('>loss<');
    // One line path per series, in Vega's default colours.
    expect(svg).toMatch(/<path[^>]*stroke="#4c78a8"/);
    expect(svg).toMatch(/<path[^>]*stroke="#f58518"/);
  });

  it('rasterises to a non-blank PNG, at a chosen scale', async () => {
    const svg = await renderVegaLite(lossCurveSpec(LOSS));
    const png = svgToPng(svg);
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const size = pngSize(png);
    expect(size.width).toBeGreaterThan(400);
    expect(size.height).toBeGreaterThan(250);
    expect(pngSize(svgToPng(svg, { scale: 2 }))).toEqual({ width: size.width * 2, height: size.height * 2 });

    const image = rasterizeSvg(svg);
    const pixels = new Uint8Array(image.pixels);
    const total = image.width * image.height;
    const white = countPixels(pixels, [255, 255, 255], 30);
    expect(white).toBeGreaterThan(total / 2); // a white background
    expect(total - white).toBeGreaterThan(1000); // with something drawn on it
    // Each legend swatch alone is under 100 pixels; each line adds several hundred.
    expect(countPixels(pixels, BLUE)).toBeGreaterThan(400); // the train line
    expect(countPixels(pixels, ORANGE)).toBeGreaterThan(300); // the validation line
    expect(countPixels(pixels, [0, 0, 0], 200)).toBeGreaterThan(200); // dark text and axes
  });

  it('writes the SVG and PNG files, and nothing else', async () => {
    const files = await writeLossPlot(LOSS, join(dir, 'plots', 'loss.png'));
    expect(files).toEqual({ svg: join(dir, 'plots', 'loss.svg'), png: join(dir, 'plots', 'loss.png') });
    expect(await readdir(join(dir, 'plots'))).toEqual(['loss.png', 'loss.svg']);
    expect(await readFile(files.svg, 'utf8')).toContain('>validation<');

    // Decode the written PNG by drawing it with resvg, and check the lines survived.
    const png = await readFile(files.png);
    const { width, height } = pngSize(png);
    const wrapper = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><image width="${width}" height="${height}" href="data:image/png;base64,${png.toString('base64')}"/></svg>`;
    const decoded = new Uint8Array(rasterizeSvg(wrapper).pixels);
    expect(countPixels(decoded, BLUE)).toBeGreaterThan(400);
    expect(countPixels(decoded, ORANGE)).toBeGreaterThan(300);
  });
});
