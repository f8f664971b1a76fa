/**
 * bench/compare A.json B.json: one line per workload present in both files,
 *   <workload> <ratio of A's median time to B's>
 * then a table. When a file has several implementations of a workload, its fastest one is used.
 */
import { readFileSync } from 'node:fs';
import type { BenchEntry, BenchFile } from './lib/harness.js';

function load(path: string): BenchFile {
  let data: BenchFile;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    process.stderr.write(`compare: cannot read ${path}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (!Array.isArray(data.entries)) {
    process.stderr.write(`compare: ${path} is not a bench results file (no "entries")\n`);
    process.exit(2);
  }
  return data;
}

function fastest(file: BenchFile): Map<string, BenchEntry> {
  const best = new Map<string, BenchEntry>();
  for (const e of file.entries) {
    const cur = best.get(e.workload);
    if (!cur || e.medianMs < cur.medianMs) best.set(e.workload, e);
  }
  return best;
}

// `bench/compare … | head` closes the pipe early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const [pathA, pathB] = process.argv.slice(2);
if (!pathA || !pathB) {
  process.stderr.write('usage: bench/compare A.json B.json\n');
  process.exit(2);
}
const a = fastest(load(pathA));
const b = fastest(load(pathB));
const rows: string[][] = [['workload', 'A impl', 'A median ms', 'B impl', 'B median ms', 'A/B']];
for (const [workload, ea] of a) {
  const eb = b.get(workload);
  if (!eb) continue;
  const ratio = ea.medianMs / eb.medianMs;
  process.stdout.write(`${workload} ${ratio.toFixed(2)}\n`);
  rows.push([workload, ea.impl, ea.medianMs.toFixed(2), eb.impl, eb.medianMs.toFixed(2), `${ratio.toFixed(2)}×`]);
}
if (rows.length === 1) {
  process.stderr.write('compare: the two files have no workload in common\n');
  process.exit(1);
}
process.stdout.write('\n');
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const [i, r] of rows.entries()) {
  process.stdout.write(`${r.map((cell, c) => cell.padEnd(widths[c])).join('  ')}\n`);
  if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
}
