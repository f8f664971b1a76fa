/**
 * bench/gpu-summary: the table bench/gpu.sh ends with. Reads bench/results/gpu-*.json (ours on
 * webgpu, and `gpu-*-pytorch.json`, the PyTorch twins) and prints one line per workload,
 * `<workload> <ours ms> <pytorch ms> <ratio>`, then the GPU work per step, before and after fusion.
 *   node gpu-summary.mjs [RESULTS_DIR]       (bundled by bench/gpu.sh --pack)
 * Writes RESULTS_DIR/gpu-summary.json.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchEntry, BenchFile } from './lib/harness.js';

const dir = process.argv[2] ?? path.join('bench', 'results');
const files = existsSync(dir)
  ? readdirSync(dir).filter((f) => /^gpu-.*\.json$/.test(f) && f !== 'gpu-summary.json')
  : [];
const ours: BenchEntry[] = [];
const torch: BenchEntry[] = [];
for (const f of files) {
  try {
    const data = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as BenchFile;
    (f.includes('-pytorch') ? torch : ours).push(...data.entries);
  } catch (err) {
    process.stdout.write(`(skipping ${f}: ${(err as Error).message})\n`);
  }
}

/** Our best time for a workload: the fastest webgpu entry that is not a stock-kernel baseline. */
function best(entries: BenchEntry[], workload: string, stock: boolean): BenchEntry | undefined {
  const candidates = entries.filter(
    (e) => e.workload === workload && /stock|tfops|plain/.test(e.impl) === stock && e.backend !== 'cpu',
  );
  return candidates.sort((a, b) => a.medianMs - b.medianMs)[0];
}

const workloads = [...new Set(ours.map((e) => e.workload))];
const lines: Record<string, unknown>[] = [];
process.stdout.write(
  `\n${'workload'.padEnd(26)} ${'ours ms'.padStart(10)} ${'pytorch ms'.padStart(11)} ${'ratio'.padStart(7)}\n`,
);
for (const w of workloads) {
  const o = best(ours, w, false);
  const p = torch.filter((e) => e.workload === w).sort((a, b) => a.medianMs - b.medianMs)[0];
  if (!o) continue;
  const ratio = p ? o.medianMs / p.medianMs : undefined;
  process.stdout.write(
    `${w.padEnd(26)} ${o.medianMs.toFixed(2).padStart(10)} ${(p ? p.medianMs.toFixed(2) : 'n/a').padStart(11)} ${(ratio ? `${ratio.toFixed(2)}×` : 'n/a').padStart(7)}${o.throughput ? `   (${o.throughput.value.toFixed(1)} ${o.throughput.unit})` : ''}\n`,
  );
  lines.push({
    workload: w,
    oursMs: o.medianMs,
    oursImpl: o.impl,
    pytorchMs: p?.medianMs,
    pytorchImpl: p?.impl,
    ratio,
  });
}
if (torch.length === 0) process.stdout.write('pytorch: not available (no results from the PyTorch twins)\n');

process.stdout.write(`\nGPU work per step (dispatches / uploads / readbacks), before → after fusion\n`);
for (const w of workloads) {
  const after = best(ours, w, false);
  const before = best(ours, w, true);
  const fmt = (e?: BenchEntry) => (e?.gpu ? `${e.gpu.dispatches} / ${e.gpu.uploads} / ${e.gpu.readbacks}` : 'n/a');
  if (after?.gpu || before?.gpu) process.stdout.write(`${w.padEnd(26)} ${fmt(before).padStart(18)} → ${fmt(after)}\n`);
}
writeFileSync(
  path.join(dir, 'gpu-summary.json'),
  `${JSON.stringify({ createdAt: new Date().toISOString(), lines }, null, 2)}\n`,
);
