import { bootstrapInterval, mean, rateAtLeast } from './bootstrap.js';
import { FACE_GROUPS, type FaceGroup, GROUP_NAMES } from './course-data.js';

/**
 * The bias report: for each model and each demographic group, the mean P(face) (what the course
 * plots and calls accuracy) and the accuracy proper (the share of faces with P(face) ≥ 0.5), each
 * with a bootstrap 95% interval and the number of faces (and people) it rests on; then the worst
 * and best group and the gap between them. Models sit side by side.
 */

export interface GroupResult {
  group: FaceGroup;
  name: string;
  /** Photos the figures rest on. */
  n: number;
  /** People in them, where known (the London set has two photos a person). */
  people?: number;
  files: string[];
  probabilities: number[];
  meanP: number;
  meanPInterval: [number, number];
  /** Accuracy on faces: the share with P(face) ≥ 0.5. */
  detectionRate: number;
  detectionRateInterval: [number, number];
}

export interface ModelResult {
  label: string;
  kind: string;
  checkpoint: string;
  groups: GroupResult[];
  /** The group with the lowest mean P(face). */
  worstGroup: { group: FaceGroup; meanP: number; detectionRate: number };
  bestGroup: { group: FaceGroup; meanP: number; detectionRate: number };
  /** Best minus worst group's mean P(face). */
  largestGap: { high: FaceGroup; low: FaceGroup; gap: number };
  /** Best minus worst group's accuracy. */
  accuracyGap: { high: FaceGroup; low: FaceGroup; gap: number };
  /** Faces at P ≥ 0.5, over all groups. */
  detected: number;
  total: number;
}

export interface SetResult {
  /** 'test_faces' (the course's 20) or 'london' (held-out people). */
  set: string;
  description: string;
  /** What the reader must know about this set (e.g. which people it holds). */
  note?: string;
  models: ModelResult[];
}

/** Summarises one model's probabilities per group. */
export function summariseModel(
  label: string,
  kind: string,
  checkpoint: string,
  byGroup: Record<FaceGroup, { files: string[]; probabilities: ArrayLike<number>; people?: number }>,
  options: { resamples?: number; seed?: number } = {},
): ModelResult {
  const groups: GroupResult[] = FACE_GROUPS.filter((g) => byGroup[g]?.files.length).map((g, gi) => {
    const p = Array.from(byGroup[g].probabilities);
    const seed = (options.seed ?? 0) * 31 + gi;
    return {
      group: g,
      name: GROUP_NAMES[g],
      n: p.length,
      ...(byGroup[g].people !== undefined ? { people: byGroup[g].people } : {}),
      files: byGroup[g].files,
      probabilities: p,
      meanP: mean(p),
      meanPInterval: bootstrapInterval(p, mean, { resamples: options.resamples, seed }),
      detectionRate: rateAtLeast(0.5)(p),
      detectionRateInterval: bootstrapInterval(p, rateAtLeast(0.5), { resamples: options.resamples, seed }),
    };
  });
  const byMean = [...groups].sort((a, b) => a.meanP - b.meanP);
  const byRate = [...groups].sort((a, b) => a.detectionRate - b.detectionRate || a.meanP - b.meanP);
  const low = byMean[0];
  const high = byMean[byMean.length - 1];
  const pick = (g: GroupResult) => ({ group: g.group, meanP: g.meanP, detectionRate: g.detectionRate });
  return {
    label,
    kind,
    checkpoint,
    groups,
    worstGroup: pick(low),
    bestGroup: pick(high),
    largestGap: { high: high.group, low: low.group, gap: high.meanP - low.meanP },
    accuracyGap: {
      high: byRate[byRate.length - 1].group,
      low: byRate[0].group,
      gap: byRate[byRate.length - 1].detectionRate - byRate[0].detectionRate,
    },
    detected: groups.reduce((a, g) => a + g.probabilities.filter((v) => v >= 0.5).length, 0),
    total: groups.reduce((a, g) => a + g.n, 0),
  };
}

const pct = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const interval = (i: [number, number]) => `[${pct(i[0])}, ${pct(i[1])}]`;

/** The caveat every report carries, with the average width of its intervals. */
export function smallSampleNote(sets: SetResult[]): string {
  const groups = sets.flatMap((s) => s.models.flatMap((m) => m.groups));
  const smallest = Math.min(...groups.map((g) => g.n));
  const widths = groups.map((g) => g.meanPInterval[1] - g.meanPInterval[0]).filter(Number.isFinite);
  const width = widths.reduce((a, b) => a + b, 0) / Math.max(1, widths.length);
  return `With only ${smallest} face${smallest === 1 ? '' : 's'} in the smallest group, each interval rests on resamples of a handful of values (here the 95% intervals of the mean P(face) are ${width.toFixed(2)} wide on average, and an accuracy over ${smallest} faces can only move in steps of ${(1 / smallest).toFixed(2)}). A gap between groups smaller than the intervals is not evidence of bias, nor of its absence. The intervals are percentile bootstraps over the faces of each group; photos of one person are not independent, so the London intervals are if anything too narrow.`;
}

/** The group column: code, name, and the photos (people) behind it. */
const groupCell = (r: GroupResult) =>
  `${r.group} (${r.name}) | ${r.n}${r.people !== undefined ? ` (${r.people} ${r.people === 1 ? 'person' : 'people'})` : ''}`;

/** The report as Markdown: one table per test set, models side by side. */
export function biasReportMarkdown(sets: SetResult[], extra = ''): string {
  const lines: string[] = ['# Lab 2 bias report', ''];
  for (const s of sets) {
    lines.push(`## ${s.description}`, '');
    if (s.note) lines.push(s.note, '');
    const header = [
      'group',
      'n photos',
      ...s.models.flatMap((m) => [`${m.label}: mean P(face) [95% CI]`, `${m.label}: accuracy (P ≥ 0.5) [95% CI]`]),
    ];
    lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`);
    for (const g of FACE_GROUPS) {
      const rows = s.models.map((m) => m.groups.find((x) => x.group === g));
      if (!rows[0]) continue;
      const cells = [groupCell(rows[0])];
      for (const r of rows) {
        cells.push(r ? `${pct(r.meanP)} ${interval(r.meanPInterval)}` : '–');
        cells.push(r ? `${pct(r.detectionRate)} ${interval(r.detectionRateInterval)}` : '–');
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
    for (const m of s.models) {
      lines.push(
        `- ${m.label}: ${m.detected} of ${m.total} faces at P ≥ 0.5; worst group ${m.worstGroup.group} (mean P ${pct(m.worstGroup.meanP)}, accuracy ${pct(m.worstGroup.detectionRate)}), best ${m.bestGroup.group} (mean P ${pct(m.bestGroup.meanP)}); best − worst gap: mean P ${pct(m.largestGap.gap)} (${m.largestGap.high} vs ${m.largestGap.low}), accuracy ${pct(m.accuracyGap.gap)} (${m.accuracyGap.high} vs ${m.accuracyGap.low}).`,
      );
    }
    lines.push('');
  }
  if (extra) lines.push(extra, '');
  lines.push(`**Read with care.** ${smallSampleNote(sets)}`, '');
  return lines.join('\n');
}

/** Rows for charts: one per set, group and model, with the interval and n (the studio draws these). */
export function chartRows(sets: SetResult[]) {
  return sets.flatMap((s) =>
    s.models.flatMap((m) =>
      m.groups.map((g) => ({
        set: s.description,
        group: g.group,
        model: m.label,
        meanP: g.meanP,
        low: g.meanPInterval[0],
        high: g.meanPInterval[1],
        n: g.n,
      })),
    ),
  );
}

/** The rows the studio's Lab 2 page charts: `{model, group, mean, low, high, n}`, groups prefixed by set. */
export function studioRows(sets: SetResult[]) {
  return sets.flatMap((s) =>
    s.models.flatMap((m) =>
      m.groups.map((g) => ({
        model: m.label,
        group: `${s.set === 'test_faces' ? 'test' : s.set === 'london' ? 'London' : s.set} ${g.group}`,
        mean: g.meanP,
        low: g.meanPInterval[0],
        high: g.meanPInterval[1],
        n: g.n,
      })),
    ),
  );
}

/** A Vega-Lite grouped bar chart of mean P(face) per group and model, with the bootstrap intervals. */
export function biasChartSpec(sets: SetResult[]) {
  const models = [...new Set(sets.flatMap((s) => s.models.map((m) => m.label)))];
  const layer = [
    {
      mark: { type: 'bar' },
      encoding: {
        y: { field: 'meanP', type: 'quantitative', title: 'mean P(face)', scale: { domain: [0, 1] } },
        color: { field: 'model', type: 'nominal', title: 'model', scale: { domain: models } },
      },
    },
    {
      mark: { type: 'rule', color: 'black', strokeWidth: 1.5 },
      encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
    },
    {
      mark: { type: 'text', dy: 10, fontSize: 9, baseline: 'top' },
      encoding: { y: { datum: 0 }, text: { field: 'n', type: 'quantitative', format: 'd' } },
    },
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Mean P(face) per group, with bootstrap 95% intervals (n under each bar)',
    background: 'white',
    data: { values: chartRows(sets) },
    facet: { column: { field: 'set', type: 'nominal', title: null } },
    spec: {
      width: 280,
      height: 260,
      encoding: {
        x: { field: 'group', type: 'nominal', title: 'group', sort: [...FACE_GROUPS], axis: { labelAngle: 0 } },
        xOffset: { field: 'model', type: 'nominal', sort: models },
      },
      layer,
    },
  };
}
