export {
  type LineChartOptions,
  type LossCurveOptions,
  type LossPoint,
  lineChartSpec,
  lossCurveSpec,
  type Point,
  type Series,
  writeLossPlot,
} from './loss-plot.js';
export { type PlotFiles, type RasterOptions, rasterizeSvg, renderVegaLite, svgToPng, writePlot } from './render.js';
