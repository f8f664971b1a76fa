/** Vega-Lite specs for line charts of named series, such as training and validation loss. */

import type { TopLevelSpec } from 'vega-lite';
import { type PlotFiles, type RasterOptions, writePlot } from './render.js';

/** A point of a series. */
export interface Point {
  x: number;
  y: number;
}

/** A named line. */
export interface Series<P = Point> {
  name: string;
  points: P[];
}

/** Options of {@link lineChartSpec}. */
export interface LineChartOptions {
  title: string;
  series: Series[];
  xLabel?: string;
  yLabel?: string;
  /** A logarithmic y axis; points with y ≤ 0 are left out because they have no place on it. */
  logY?: boolean;
  /** Plot size in pixels, not counting axes and legend. Defaults to 480 × 300. */
  width?: number;
  height?: number;
}

/**
 * A line chart with one coloured line per series and a legend. Points with a non-finite value
 * (a diverged loss) are left out rather than breaking the scale.
 */
export function lineChartSpec(options: LineChartOptions): TopLevelSpec {
  const logY = options.logY ?? false;
  const values = options.series.flatMap((s) =>
    s.points
      .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0))
      .map((p) => ({ series: s.name, x: p.x, y: p.y })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title,
    width: options.width ?? 480,
    height: options.height ?? 300,
    background: 'white',
    data: { values },
    // point: a series of one point (one epoch so far) would otherwise draw nothing.
    mark: { type: 'line', point: true, strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xLabel ?? 'x' },
      y: {
        field: 'y',
        type: 'quantitative',
        title: options.yLabel ?? 'y',
        scale: logY ? { type: 'log' } : { zero: false },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        // Keep the caller's order in the legend and colours, not alphabetical order.
        scale: { domain: options.series.map((s) => s.name) },
      },
    },
  };
}

/** A point of a loss curve. */
export interface LossPoint {
  step: number;
  value: number;
}

/** Options of {@link lossCurveSpec}. */
export interface LossCurveOptions {
  title: string;
  /** One series per curve, e.g. 'train' and 'validation'. */
  series: Series<LossPoint>[];
  /** Defaults to 'loss'. */
  yLabel?: string;
  /** Defaults to 'step'. */
  xLabel?: string;
  logY?: boolean;
}

/** A line chart of loss (or any metric) against training step, one line per series. */
export function lossCurveSpec(options: LossCurveOptions): TopLevelSpec {
  return lineChartSpec({
    title: options.title,
    xLabel: options.xLabel ?? 'step',
    yLabel: options.yLabel ?? 'loss',
    logY: options.logY,
    series: options.series.map((s) => ({ name: s.name, points: s.points.map((p) => ({ x: p.step, y: p.value })) })),
  });
}

/** Writes `<outBasePath>.svg` and `.png` of {@link lossCurveSpec}. */
export function writeLossPlot(
  options: LossCurveOptions,
  outBasePath: string,
  raster?: RasterOptions,
): Promise<PlotFiles> {
  return writePlot(lossCurveSpec(options), outBasePath, raster);
}
