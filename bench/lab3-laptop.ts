/**
 * bench/lab3-laptop: Lab 3 at the size a student trains on a laptop CPU, ours against plain PyTorch,
 * side by side in one run, at the shapes of SmolLM2-135M and Qwen3-0.6B with random weights:
 * - lora-step: LoRA r=8 (alpha 16) on q, k, v, o, gate, up, down, one Lion step on a [1, 256]
 *   sequence, loss on every token: milliseconds, tokens/s;
 * - generate: greedy decoding with the KV cache, 64 new tokens after a 32-token prompt: tokens/s;
 * - peak memory: the process's maximum resident set size (each measurement in a fresh process).
 * Ours keeps the weights as `lab3 train` would by default (--base-dtype auto: float32 for 135M,
 * bfloat16 matrices for 0.6B; gradient checkpointing from 20M parameters on); the model is a
 * random folder written by `writeRandomModel` and read by the real loader. PyTorch holds float32
 * weights (bench/reference/lab3_laptop.py, the faster of its two thread settings is compared).
 * The load average is recorded beside each measurement: on a shared machine, compare paired runs.
 *   npx tsx bench/lab3-laptop.ts [--shapes smollm2-135m,qwen3-0.6b] [--workloads lora-step,generate] [--repeats 3] [--skip-pytorch]
 * Writes bench/results/lab3-laptop.json (ours, and the PyTorch entries it ran).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lion, optimizerStep, tf } from '@introdl/core';
import {
  AUTO_CHECKPOINT_MIN_PARAMETERS,
  answerLoss,
  applyLora,
  generate,
  loadModel,
  PROJECTIONS,
  writeRandomModel,
} from '@introdl/lab3-llm';
import { type BenchEntry, type BenchFile, measure, RESULTS_DIR, report, tryBackend } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    child: { type: 'string' },
    folder: { type: 'string' },
    shapes: { type: 'string' },
    workloads: { type: 'string' },
    repeats: { type: 'string' },
    seq: { type: 'string' },
    'skip-pytorch': { type: 'boolean' },
    out: { type: 'string' },
  },
  strict: false,
});
const repeats = Number(values.repeats ?? 3);
const seq = Number(values.seq ?? 256);
const here = path.dirname(fileURLToPath(import.meta.url));
const load1 = () => os.loadavg()[0];

/** One measurement in this (fresh) process: prints its entry as JSON on the last line. */
async function child(workload: string, shape: string, folder: string): Promise<void> {
  const sel = await tryBackend('wasm');
  if (!sel) throw new Error('the wasm backend is needed');
  const lm = await loadModel(folder, { log: () => {} });
  const { model } = lm;
  const checkpoint = lm.info.parameters >= AUTO_CHECKPOINT_MIN_PARAMETERS;
  const params = {
    shape,
    parameters: lm.info.parameters,
    storage: lm.info.storage,
    checkpointing: checkpoint,
    loadAvgStart: load1(),
  };
  let entry: BenchEntry;
  if (workload === 'lora-step') {
    applyLora(model, { r: 8, alpha: 16, targetModules: PROJECTIONS, seed: 1 });
    const vars = model.variables();
    const optimizer = new Lion(1e-4);
    const ids = tf.tensor2d(
      Array.from({ length: seq }, (_, i) => (i * 31) % model.config.vocabSize),
      [1, seq],
      'int32',
    );
    const mask = tf.ones([1, seq]) as tf.Tensor2D;
    const step = async () => {
      const loss = optimizerStep(vars, optimizer, () => answerLoss(model, ids, mask, { training: true, checkpoint }));
      await loss.data();
      loss.dispose();
    };
    const m = await measure(step, { warmup: 1, repeats });
    entry = {
      workload: 'lab3-lora-step',
      impl: 'tfjs-wasm',
      backend: 'wasm',
      device: sel.detail,
      params: { ...params, seq, rank: 8, targets: 'all', loadAvgEnd: load1() },
      ...m,
      peakMemoryMB: process.resourceUsage().maxRSS / 1024,
      throughput: { value: (seq - 1) / (m.medianMs / 1000), unit: 'tokens/s' },
    };
  } else {
    const prompt = Array.from({ length: 32 }, (_, i) => (i * 97) % model.config.vocabSize);
    let tps = 0;
    const m = await measure(
      async () => {
        const r = await generate(model, prompt, { maxNewTokens: 64, temperature: 0 });
        tps = (r.tokens.length - 1) / r.generateSeconds;
      },
      { warmup: 1, repeats },
    );
    entry = {
      workload: 'lab3-generate',
      impl: 'tfjs-wasm',
      backend: 'wasm',
      device: sel.detail,
      params: { ...params, prompt: 32, newTokens: 64, loadAvgEnd: load1() },
      ...m,
      peakMemoryMB: process.resourceUsage().maxRSS / 1024,
      throughput: { value: tps, unit: 'tokens/s' },
    };
  }
  process.stdout.write(`\n${JSON.stringify(entry)}\n`);
}

function lastJsonLine(text: string): BenchEntry {
  const line = text.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as BenchEntry;
}

async function main(): Promise<void> {
  const shapes = String(values.shapes ?? 'smollm2-135m,qwen3-0.6b').split(',');
  const workloads = String(values.workloads ?? 'lora-step,generate').split(',');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'lab3-laptop-'));
  const ours: BenchEntry[] = [];
  const theirs: BenchEntry[] = [];
  try {
    for (const shape of shapes) {
      const folder = path.join(tmp, shape);
      writeRandomModel(folder, shape, 1);
      for (const workload of workloads) {
        process.stderr.write(`${shape} ${workload}: ours (load ${load1().toFixed(1)})…\n`);
        const out = execFileSync(
          process.execPath,
          [
            ...process.execArgv,
            fileURLToPath(import.meta.url),
            '--child',
            workload,
            '--shapes',
            shape,
            '--folder',
            folder,
            '--repeats',
            String(repeats),
            '--seq',
            String(seq),
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 },
        );
        ours.push(lastJsonLine(out));
        if (values['skip-pytorch']) continue;
        process.stderr.write(`${shape} ${workload}: PyTorch (load ${load1().toFixed(1)})…\n`);
        const file = path.join(tmp, `${shape}-${workload}-pytorch.json`);
        const startLoad = load1();
        execFileSync(
          '/usr/bin/python3',
          [
            path.join(here, 'reference', 'lab3_laptop.py'),
            '--shape',
            shape,
            '--workload',
            workload,
            '--repeats',
            String(repeats),
            '--seq',
            String(seq),
            '--out',
            file,
          ],
          { stdio: ['ignore', 'ignore', 'inherit'] },
        );
        const data = JSON.parse(readFileSync(file, 'utf8')) as BenchFile;
        for (const e of data.entries)
          theirs.push({ ...e, params: { ...e.params, loadAvgStart: startLoad, loadAvgEnd: load1() } });
      }
      rmSync(folder, { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  report(
    'lab3-laptop',
    [...ours, ...theirs],
    (values.out as string | undefined) ?? path.join(RESULTS_DIR, 'lab3-laptop.json'),
  );
  // Side by side: ours against the faster PyTorch thread setting.
  const rows = [
    [
      'shape',
      'workload',
      'ours ms',
      'ours tok/s',
      'ours peak MB',
      'PyTorch ms',
      'PyTorch tok/s',
      'PyTorch peak MB',
      'time ratio',
      'load avg',
    ],
  ];
  for (const o of ours) {
    const shape = String(o.params.shape);
    const best = theirs
      .filter((t) => t.workload === o.workload && t.params.shape === shape)
      .sort((a, b) => a.medianMs - b.medianMs)[0];
    const gen = o.workload === 'lab3-generate';
    rows.push([
      shape,
      o.workload.replace('lab3-', ''),
      gen ? '' : o.medianMs.toFixed(0),
      o.throughput?.value.toFixed(1) ?? '',
      o.peakMemoryMB.toFixed(0),
      best && !gen ? best.medianMs.toFixed(0) : '',
      best?.throughput?.value.toFixed(1) ?? '',
      best?.peakMemoryMB.toFixed(0) ?? '',
      best
        ? gen
          ? (best.throughput!.value / o.throughput!.value).toFixed(2)
          : (o.medianMs / best.medianMs).toFixed(2)
        : '',
      `${Number(o.params.loadAvgStart).toFixed(1)}/${best ? Number(best.params.loadAvgStart).toFixed(1) : '-'}`,
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  process.stdout.write('\n');
  for (const [i, r] of rows.entries()) {
    process.stdout.write(
      `${r.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')}\n`,
    );
    if (i === 0) process.stdout.write(`${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  }
  process.stdout.write(
    'time ratio: ours / PyTorch (generation: PyTorch tokens/s / ours); load avg: 1-minute load when ours/PyTorch started\n',
  );
}

if (values.child) await child(String(values.child), String(values.shapes), String(values.folder));
else await main();
process.exit(0);
