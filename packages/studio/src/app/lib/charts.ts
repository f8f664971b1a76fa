/** Small SVG charts: line (loss curves), dodged histogram (judge scores), means with intervals (bias). */

const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#0b5cad', '#d1242f', '#1a7f37', '#8250df', '#bc4c00', '#57606a'];
const W = 640;
const H = 300;
const M = { left: 56, right: 16, top: 28, bottom: 44 };

function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, text?: string) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function frame(title: string, description: string): SVGSVGElement {
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': `${title}. ${description}`,
  });
  svg.appendChild(s('title', {}, title));
  svg.appendChild(s('text', { x: M.left, y: 18, 'font-size': 14, 'font-weight': 600, fill: '#1b1f24' }, title));
  return svg;
}

/** About five round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toFixed(3)));
}

function axes(
  svg: SVGSVGElement,
  x: (v: number) => number,
  y: (v: number) => number,
  xt: number[],
  yt: number[],
  labels: { x: string; y: string },
  xFmt = fmt,
) {
  const g = s('g', { 'font-size': 11, fill: '#57606a' });
  g.appendChild(s('line', { x1: M.left, y1: H - M.bottom, x2: W - M.right, y2: H - M.bottom, stroke: '#8c959f' }));
  g.appendChild(s('line', { x1: M.left, y1: M.top, x2: M.left, y2: H - M.bottom, stroke: '#8c959f' }));
  for (const t of yt) {
    g.appendChild(s('line', { x1: M.left, y1: y(t), x2: W - M.right, y2: y(t), stroke: '#eaeef2' }));
    g.appendChild(s('text', { x: M.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, fmt(t)));
  }
  for (const t of xt) g.appendChild(s('text', { x: x(t), y: H - M.bottom + 16, 'text-anchor': 'middle' }, xFmt(t)));
  g.appendChild(s('text', { x: (M.left + W - M.right) / 2, y: H - 8, 'text-anchor': 'middle' }, labels.x));
  g.appendChild(
    s(
      'text',
      {
        x: 14,
        y: (M.top + H - M.bottom) / 2,
        'text-anchor': 'middle',
        transform: `rotate(-90 14 ${(M.top + H - M.bottom) / 2})`,
      },
      labels.y,
    ),
  );
  svg.appendChild(g);
}

function legend(svg: SVGSVGElement, names: string[]) {
  names.forEach((name, i) => {
    const x = W - M.right - 130;
    const y = M.top + 4 + i * 16;
    svg.appendChild(s('rect', { x, y, width: 10, height: 10, fill: COLORS[i % COLORS.length] }));
    svg.appendChild(s('text', { x: x + 14, y: y + 9, 'font-size': 11, fill: '#1b1f24' }, name));
  });
}

/** A series of (x, y) points. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** Line chart, e.g. loss against step. */
export function lineChart(series: Series[], opts: { title: string; x: string; y: string }): SVGSVGElement {
  const all = series.flatMap((se) => se.points).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  const last = series.map((se) => se.points.at(-1)).filter(Boolean) as [number, number][];
  const desc = all.length
    ? `${all.length} points; last ${last.map(([a, b]) => `${opts.x} ${a}: ${fmt(b)}`).join(', ')}`
    : 'no points yet';
  const svg = frame(opts.title, desc);
  if (!all.length) {
    svg.appendChild(
      s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', fill: '#57606a' }, 'waiting for the first step…'),
    );
    return svg;
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const x = (v: number) => M.left + ((v - x0) / (x1 - x0)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  axes(svg, x, y, ticks(x0, x1), ticks(y0, y1), { x: opts.x, y: opts.y });
  series.forEach((se, i) => {
    const d = se.points
      .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
      .map(([a, b], j) => `${j ? 'L' : 'M'}${x(a).toFixed(1)},${y(b).toFixed(1)}`)
      .join('');
    svg.appendChild(
      s('path', {
        d,
        fill: 'none',
        stroke: COLORS[i % COLORS.length],
        'stroke-width': 2,
        'data-series': se.name,
        'data-points': se.points.length,
      }),
    );
  });
  if (series.length > 1)
    legend(
      svg,
      series.map((se) => se.name),
    );
  return svg;
}

/** Counts of `values` in `bins` equal bins over [lo, hi] (the last bin includes hi). */
export function binCounts(values: number[], bins: number, lo: number, hi: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))] += 1;
  }
  return counts;
}

/** Histogram of several sets side by side in each bin (seaborn's multiple="dodge"). */
export function histogram(
  sets: Record<string, number[]>,
  opts: { title: string; x: string; bins?: number; lo?: number; hi?: number },
): SVGSVGElement {
  const names = Object.keys(sets);
  const all = names.flatMap((n) => sets[n]);
  const lo = opts.lo ?? Math.min(0, ...all);
  const hi = opts.hi ?? Math.max(1, ...all);
  const bins = opts.bins ?? 6;
  const counts = names.map((n) => binCounts(sets[n], bins, lo, hi));
  const desc = names
    .map((n) => {
      const v = sets[n];
      const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
      return `${n}: ${v.length} scores, mean ${fmt(mean)}`;
    })
    .join('; ');
  const svg = frame(opts.title, desc);
  const yMax = Math.max(1, ...counts.flat());
  const x = (v: number) => M.left + ((v - lo) / (hi - lo)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  axes(
    svg,
    x,
    y,
    ticks(lo, hi),
    ticks(0, yMax).filter((t) => Number.isInteger(t)),
    { x: opts.x, y: 'count' },
  );
  const binW = (W - M.left - M.right) / bins;
  const barW = (binW * 0.85) / Math.max(1, names.length);
  counts.forEach((row, i) => {
    row.forEach((c, b) => {
      if (!c) return;
      const bx = M.left + b * binW + binW * 0.075 + i * barW;
      svg.appendChild(
        s('rect', {
          x: bx,
          y: y(c),
          width: barW,
          height: H - M.bottom - y(c),
          fill: COLORS[i % COLORS.length],
          'data-set': names[i],
          'data-count': c,
        }),
      );
    });
  });
  legend(svg, names);
  return svg;
}

/** One mean with its interval, for a group and a model (the bias report). */
export interface IntervalRow {
  model: string;
  group: string;
  mean: number;
  low?: number;
  high?: number;
  n?: number;
}

/** Means per group with interval whiskers, one colour per model. */
export function intervalChart(rows: IntervalRow[], opts: { title: string; y: string }): SVGSVGElement {
  const groups = [...new Set(rows.map((r) => r.group))];
  const models = [...new Set(rows.map((r) => r.model))];
  const desc = rows
    .map(
      (r) =>
        `${r.model} ${r.group}: ${fmt(r.mean)}${r.low !== undefined && r.high !== undefined ? ` [${fmt(r.low)}, ${fmt(r.high)}]` : ''}`,
    )
    .join('; ');
  const svg = frame(opts.title, desc);
  const lo = Math.min(0, ...rows.map((r) => r.low ?? r.mean));
  const hi = Math.max(1, ...rows.map((r) => r.high ?? r.mean));
  const slot = (W - M.left - M.right) / Math.max(1, groups.length);
  const x = (v: number) => M.left + (v + 0.5) * slot;
  const y = (v: number) => H - M.bottom - ((v - lo) / (hi - lo)) * (H - M.top - M.bottom);
  axes(
    svg,
    x,
    y,
    groups.map((_, i) => i),
    ticks(lo, hi),
    { x: 'group', y: opts.y },
    (i) => groups[i] ?? '',
  );
  rows.forEach((r) => {
    const gi = groups.indexOf(r.group);
    const mi = models.indexOf(r.model);
    const cx = x(gi) + (mi - (models.length - 1) / 2) * Math.min(28, slot / (models.length + 1));
    const color = COLORS[mi % COLORS.length];
    if (r.low !== undefined && r.high !== undefined) {
      svg.appendChild(s('line', { x1: cx, x2: cx, y1: y(r.low), y2: y(r.high), stroke: color, 'stroke-width': 2 }));
      for (const v of [r.low, r.high])
        svg.appendChild(s('line', { x1: cx - 5, x2: cx + 5, y1: y(v), y2: y(v), stroke: color, 'stroke-width': 2 }));
    }
    svg.appendChild(
      s('circle', { cx, cy: y(r.mean), r: 5, fill: color, 'data-model': r.model, 'data-group': r.group }),
    );
  });
  legend(svg, models);
  return svg;
}
