/**
 * The benchmark harness: warm up, repeat, report the median; record backend, device, versions and
 * peak memory; print a table; write JSON to bench/results/. Every bench/*.ts uses it, and the
 * PyTorch references in bench/reference/*.py write the same JSON shape, so `bench/compare` can put
 * any two result files side by side.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  activeBackend,
  type BackendSelection,
  countGpuWork,
  type GpuCounts,
  gpuBreakdown,
  tf,
  useBackend,
  versions,
} from '@introdl/core';

export type { GpuCounts };

/** One measured workload on one implementation. */
export interface BenchEntry {
  workload: string;
  /** What ran it, e.g. `tfjs-wasm`, `tfjs-wasm-fused`, `pytorch-cpu`. */
  impl: string;
  backend: string;
  device: string;
  params: Record<string, unknown>;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
  peakMemoryMB: number;
  /** Work per second when meaningful (GFLOP/s, chars/s, tokens/s). */
  throughput?: { value: number; unit: string };
  /** On webgpu: GPU work of one measured call (dispatches, uploads, readbacks), counted, not timed. */
  gpu?: GpuCounts;
}

/** A results file. */
export interface BenchFile {
  suite: 'introdl-bench';
  name: string;
  createdAt: string;
  machine: { cpu: string; cores: number; memoryGB: number; platform: string };
  versions: Record<string, string>;
  entries: BenchEntry[];
}

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak memory while `fn` runs: the larger of the process RSS and tfjs' tensor bytes, in MB. */
class MemoryWatch {
  private peak = 0;
  private timer: NodeJS.Timeout;
  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), 20);
  }
  sample(): void {
    const tfBytes = tf.memory().numBytes;
    this.peak = Math.max(this.peak, process.memoryUsage().rss, tfBytes);
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak / 2 ** 20;
  }
}

/** Options for {@link measure}. */
export interface MeasureOptions {
  warmup?: number;
  repeats?: number;
}

/** Runs `fn` `warmup` times unmeasured, then `repeats` times measured; returns the samples and peak memory. */
export async function measure(fn: () => unknown | Promise<unknown>, options: MeasureOptions = {}) {
  const watch = new MemoryWatch();
  for (let i = 0; i < (options.warmup ?? 2); i++) await fn();
  const samplesMs: number[] = [];
  for (let i = 0; i < (options.repeats ?? 5); i++) {
    const t0 = performance.now();
    await fn();
    samplesMs.push(performance.now() - t0);
    watch.sample();
  }
  const peakMemoryMB = watch.stop();
  return {
    samplesMs,
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    maxMs: Math.max(...samplesMs),
    peakMemoryMB,
  };
}

/** Common flags: `--backends wasm,cpu`, `--repeats N`, `--warmup N`, `--out FILE`, `--quick`. */
export function benchArgs(defaultBackends: string[]) {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string' },
      repeats: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: false,
  });
  return {
    backends: ((values.backends as string | undefined)?.split(',') ?? defaultBackends).filter(Boolean),
    repeats: values.repeats ? Number(values.repeats) : undefined,
    warmup: values.warmup ? Number(values.warmup) : undefined,
    out: values.out as string | undefined,
    quick: Boolean(values.quick),
  };
}

/** Activates a backend for a benchmark; returns null (and says why) when it cannot run here. */
export async function tryBackend(name: string): Promise<BackendSelection | null> {
  try {
    const sel = await useBackend(name);
    if (activeBackend() !== sel.name) throw new Error('backend did not activate');
    return sel;
  } catch (err) {
    process.stderr.write(`skipping ${name}: ${(err as Error).message}\n`);
    return null;
  }
}

/** A bench-only switch from the environment (not a test input, so not in turbo.json's env). */
function flag(name: string): string | undefined {
  return process.env[name];
}

/**
 * On webgpu, runs `fn` once more and counts the GPU work it causes (a hardware-free measure of
 * per-op overhead: kernels launched, buffers uploaded and read back). Undefined on other backends.
 * `INTRODL_GPU_BREAKDOWN=1` also prints the dispatches by pipeline (tfjs program or fused kernel).
 */
export async function countGpu(fn: () => unknown | Promise<unknown>): Promise<GpuCounts | undefined> {
  if (activeBackend() !== 'webgpu') return undefined;
  const { counts } = await countGpuWork(fn);
  if (flag('INTRODL_GPU_BREAKDOWN') === '1') {
    process.stderr.write(`dispatches by pipeline: ${JSON.stringify(gpuBreakdown())}\n`);
  }
  return counts;
}

export function machine(): BenchFile['machine'] {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.arch()}`,
  };
}

/** Prints the entries as a table. */
export function printTable(entries: BenchEntry[]): void {
  const gpu = entries.some((e) => e.gpu);
  const header = ['workload', 'impl', 'device', 'median ms', 'min', 'max', 'peak MB', 'throughput'];
  const rows = [gpu ? [...header, 'dispatches', 'uploads', 'readbacks'] : header];
  for (const e of entries) {
    const counts = e.gpu ? [e.gpu.dispatches, e.gpu.uploads, e.gpu.readbacks].map(String) : ['', '', ''];
    rows.push([
      e.workload,
      e.impl,
      e.device.slice(0, 40),
      e.medianMs.toFixed(2),
      e.minMs.toFixed(2),
      e.maxMs.toFixed(2),
      e.peakMemoryMB.toFixed(0),
      e.throughput ? `${e.throughput.value.toFixed(1)} ${e.throughput.unit}` : '',
      ...(gpu ? counts : []),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const [i, r] of rows.entries()) {
    process.stdout.write(
      `${r.map((cell, c) => (c >= 3 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')}\n`,
    );
    if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
}

/** Writes the results file (default bench/results/<name>.json) and prints the table. */
export function report(name: string, entries: BenchEntry[], out?: string): string {
  const file: BenchFile = {
    suite: 'introdl-bench',
    name,
    createdAt: new Date().toISOString(),
    machine: machine(),
    versions: versions(),
    entries,
  };
  const target = out ?? path.join(RESULTS_DIR, `${name}.json`);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, `${JSON.stringify(file, null, 2)}\n`);
  printTable(entries);
  process.stdout.write(`\nwrote ${path.relative(process.cwd(), target)}\n`);
  return target;
}
