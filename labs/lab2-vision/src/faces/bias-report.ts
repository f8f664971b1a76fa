import { bootstrapInterval, mean, rateAtLeast } from './bootstrap.js';
import { FACE_GROUPS, type FaceGroup, GROUP_NAMES } from './course-data.js';

/**
 * The bias report: for each model and each demographic group, the mean P(face) (what the course
 * plots and calls accuracy), the detection rate at P ≥ 0.5, each with a bootstrap 95% interval,
 * then the worst group and the largest gap between groups.
 */

export interface GroupResult {
  group: FaceGroup;
  name: string;
  n: number;
  files: string[];
  probabilities: number[];
  meanP: number;
  meanPInterval: [number, number];
  detectionRate: number;
  detectionRateInterval: [number, number];
}

export interface ModelResult {
  label: string;
  kind: string;
  checkpoint: string;
  groups: GroupResult[];
  worstGroup: { group: FaceGroup; meanP: number };
  largestGap: { high: FaceGroup; low: FaceGroup; gap: number };
}

export interface SetResult {
  /** 'test_faces' (the course's 20) or 'london'. */
  set: string;
  description: string;
  models: ModelResult[];
}

/** Summarises one model's probabilities per group. */
export function summariseModel(
  label: string,
  kind: string,
  checkpoint: string,
  byGroup: Record<FaceGroup, { files: string[]; probabilities: ArrayLike<number> }>,
  options: { resamples?: number; seed?: number } = {},
): ModelResult {
  const groups: GroupResult[] = FACE_GROUPS.filter((g) => byGroup[g]?.files.length).map((g, gi) => {
    const p = Array.from(byGroup[g].probabilities);
    const seed = (options.seed ?? 0) * 31 + gi;
    return {
      group: g,
      name: GROUP_NAMES[g],
      n: p.length,
      files: byGroup[g].files,
      probabilities: p,
      meanP: mean(p),
      meanPInterval: bootstrapInterval(p, mean, { resamples: options.resamples, seed }),
      detectionRate: rateAtLeast(0.5)(p),
      detectionRateInterval: bootstrapInterval(p, rateAtLeast(0.5), { resamples: options.resamples, seed }),
    };
  });
  const sorted = [...groups].sort((a, b) => a.meanP - b.meanP);
  const low = sorted[0];
  const high = sorted[sorted.length - 1];
  return {
    label,
    kind,
    checkpoint,
    groups,
    worstGroup: { group: low.group, meanP: low.meanP },
    largestGap: { high: high.group, low: low.group, gap: high.meanP - low.meanP },
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
  return `With only ${smallest} face${smallest === 1 ? '' : 's'} in the smallest group, each interval rests on resamples of a handful of values (here the 95% intervals of the mean P(face) are ${width.toFixed(2)} wide on average, and a detection rate of ${smallest} faces can only move in steps of ${(1 / smallest).toFixed(2)}). A gap between groups smaller than the intervals is not evidence of bias, nor of its absence. The intervals are percentile bootstraps over the faces of each group.`;
}

/** The report as Markdown: one table per test set, models side by side. */
export function biasReportMarkdown(sets: SetResult[]): string {
  const lines: string[] = ['# Lab 2 bias report', ''];
  for (const s of sets) {
    lines.push(`## ${s.description}`, '');
    const header = [
      'group',
      'n',
      ...s.models.flatMap((m) => [`${m.label}: mean P(face) [95% CI]`, `${m.label}: detected ≥ 0.5 [95% CI]`]),
    ];
    lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`);
    for (const g of FACE_GROUPS) {
      const rows = s.models.map((m) => m.groups.find((x) => x.group === g));
      if (!rows[0]) continue;
      const cells = [`${g} (${GROUP_NAMES[g]})`, String(rows[0].n)];
      for (const r of rows) {
        cells.push(r ? `${pct(r.meanP)} ${interval(r.meanPInterval)}` : '–');
        cells.push(r ? `${pct(r.detectionRate)} ${interval(r.detectionRateInterval)}` : '–');
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
    lines.push('');
    for (const m of s.models) {
      lines.push(
        `- ${m.label}: worst group ${m.worstGroup.group} (mean P ${pct(m.worstGroup.meanP)}); largest gap ${pct(m.largestGap.gap)} (${m.largestGap.high} vs ${m.largestGap.low}).`,
      );
    }
    lines.push('');
  }
  lines.push(`**Read with care.** ${smallSampleNote(sets)}`, '');
  return lines.join('\n');
}

/** Rows for the grouped bar chart. */
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
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Mean P(face) per group, with bootstrap 95% intervals',
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
