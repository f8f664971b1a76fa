/**
 * bench/lab2-cnn-step: one training step of Lab 2's standard face CNN (labs-spec §3.2): four blocks
 * Conv(12/24/48/72 filters, k5 s2 / k5 s2 / k3 s2 / k3 s2, 'same', ReLU) → BatchNorm, flatten 1152 →
 * dense 512 (ReLU) → 1; 64×64×3 input, batch 32, BCE with logits, core's Adam(5e-4) through
 * trainableFromLayers (the Trainer's code path). Variants, each in its own process:
 * - `native`: the wasm backend with @introdl/native's OpenBLAS kernels (impl `tfjs-wasm+openblas`);
 * - `wasm`: the same with INTRODL_NATIVE=0, i.e. wasm with core's wasm kernel fixes (impl `tfjs-wasm`);
 * - `webgpu`: the webgpu backend with core's fused kernels (impl `tfjs-webgpu`), and `webgpu-stock`
 *   with stock tfjs kernels (INTRODL_WEBGPU_FUSED=0): before and after fusion. Their entries record
 *   the GPU dispatches, uploads and readbacks of one step (`gpu`).
 *   npx tsx bench/lab2-cnn-step.ts [--variants native,wasm] [--batch 32] [--repeats 20] [--profile]
 * OPENBLAS_NUM_THREADS=1 limits OpenBLAS to one thread. Each entry also records `cpuMs`, the median
 * CPU time of a step. Writes bench/results/lab2-cnn-step.json; the PyTorch twin is
 * bench/reference/lab2_cnn_step.py.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  Adam,
  type BackendSelection,
  binaryCrossEntropyFromLogits,
  optimizerStep,
  tf,
  trainableFromLayers,
} from '@introdl/core';
import { type BenchEntry, benchArgs, countGpu, measure, median, report, tryBackend } from './lib/harness.js';

const args = benchArgs(['wasm']);
const { values } = parseArgs({
  options: {
    variants: { type: 'string' },
    batch: { type: 'string' },
    child: { type: 'string' },
    profile: { type: 'boolean' },
  },
  strict: false,
});
const batch = Number(values.batch ?? 32);
const repeats = args.repeats ?? (args.quick ? 5 : 20);
const warmup = args.warmup ?? 3;

/** Variant name → backend and environment of the process that measures it, and its impl name. */
const VARIANTS: Record<string, { backend: string; env: Record<string, string>; impl: string }> = {
  native: { backend: 'wasm', env: {}, impl: 'tfjs-wasm+openblas' },
  wasm: { backend: 'wasm', env: { INTRODL_NATIVE: '0' }, impl: 'tfjs-wasm' },
  webgpu: { backend: 'webgpu', env: {}, impl: 'tfjs-webgpu' },
  'webgpu-stock': { backend: 'webgpu', env: { INTRODL_WEBGPU_FUSED: '0' }, impl: 'tfjs-webgpu-stock' },
};

function buildModel(): tf.Sequential {
  const model = tf.sequential();
  const blocks: [number, number][] = [
    [12, 5],
    [24, 5],
    [48, 3],
    [72, 3],
  ];
  for (const [i, [filters, kernelSize]] of blocks.entries()) {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [64, 64, 3] } : {}),
        filters,
        kernelSize,
        strides: 2,
        padding: 'same',
        activation: 'relu',
      }),
    );
    model.add(tf.layers.batchNormalization());
  }
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 512, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 1 }));
  return model;
}

/** Measures one variant in this process and returns its entry. */
async function measureHere(variant: string, sel: BackendSelection): Promise<StepEntry> {
  const model = buildModel();
  const trainable = trainableFromLayers(model);
  const variables = trainable.variables();
  const optimizer = new Adam(5e-4);
  const x = tf.randomUniform([batch, 64, 64, 3], 0, 1, 'float32', 1);
  const y = tf.tensor2d(
    Array.from({ length: batch }, (_, i) => (i < batch / 2 ? 1 : 0)),
    [batch, 1],
  );
  const step = async () => {
    const loss = optimizerStep(
      variables,
      optimizer,
      () => binaryCrossEntropyFromLogits(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    );
    await loss.data();
    loss.dispose();
  };
  const r = await measure(step, { warmup, repeats });
  const cpuMs = await cpuTimePerStep(step, repeats);
  const gpu = await countGpu(step);
  if (values.profile) await printProfile(step);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return {
    workload: 'lab2-cnn-step',
    impl: VARIANTS[variant]?.impl ?? variant,
    backend: sel.name,
    device: sel.detail,
    params: { batch, input: [64, 64, 3], filters: [12, 24, 48, 72], dense: 512, optimizer: 'adam', lr: 5e-4 },
    ...r,
    cpuMs,
    throughput: { value: batch / (r.medianMs / 1000), unit: 'examples/s' },
    ...(gpu ? { gpu } : {}),
  };
}

/**
 * An entry plus the median CPU time of one step over all of the process' threads. On this shared
 * machine wall time swings 3× with other people's load; CPU time of a one-thread run barely moves,
 * so it is the steadier comparison (with more threads it also counts their spin-waiting).
 */
type StepEntry = BenchEntry & { cpuMs: number };

async function cpuTimePerStep(step: () => Promise<void>, repeats: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.cpuUsage();
    await step();
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / 1000);
  }
  return median(samples);
}

/** Kernel time by kernel name over one step (tf.profile), the top 12 (every kernel by calls on webgpu). */
async function printProfile(step: () => Promise<void>): Promise<void> {
  const info = await tf.profile(step);
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls++;
    byName.set(k.name, e);
  }
  // webgpu reports no kernel times without timestamp queries: then sort by calls, and show them all.
  const timed = [...byName.values()].some((e) => e.ms > 0);
  const rows = [...byName.entries()]
    .sort((a, b) => (timed ? b[1].ms - a[1].ms : b[1].calls - a[1].calls))
    .slice(0, timed ? 12 : undefined);
  process.stderr.write(`profile (${info.kernels.length} kernels):\n`);
  for (const [name, e] of rows)
    process.stderr.write(`  ${name.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${e.calls} calls\n`);
}

if (values.child) {
  // Child: measure one variant, print its entry as the last line of stdout.
  const sel = await tryBackend(VARIANTS[values.child as string]?.backend ?? 'wasm');
  if (!sel) process.exit(2);
  process.stdout.write(`${JSON.stringify(await measureHere(values.child as string, sel))}\n`);
  process.exit(0);
}

const entries: StepEntry[] = [];
const variants = ((values.variants as string | undefined) ?? 'native,wasm').split(',').filter(Boolean);
const passOn = process.argv.slice(2).filter((a, i, all) => a !== '--variants' && all[i - 1] !== '--variants');
for (const variant of variants) {
  const env = VARIANTS[variant]?.env;
  if (!env) throw new Error(`unknown variant ${variant}: use ${Object.keys(VARIANTS).join(', ')}`);
  // From source, through tsx; bundled for a GPU host (bench/gpu.sh), the .mjs runs as it is.
  const self = fileURLToPath(import.meta.url);
  const loader = self.endsWith('.mjs') ? [] : ['--import', 'tsx'];
  const child = spawnSync(process.execPath, [...loader, self, ...passOn, '--child', variant], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  // Profiles and warnings; the wasm module echoes its whole source on a crash, so keep lines short.
  const errLines = child.stderr.split('\n').map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
  const last = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !last.startsWith('{')) {
    process.stderr.write(`${errLines.slice(-25).join('\n')}\nvariant ${variant} failed (exit ${child.status})\n`);
    continue;
  }
  process.stderr.write(errLines.filter((l) => !/npm warn/.test(l)).join('\n'));
  entries.push(JSON.parse(last) as StepEntry);
}
report('lab2-cnn-step', entries, args.out);
for (const e of entries)
  process.stdout.write(`${e.impl}: median CPU time per step ${e.cpuMs.toFixed(1)} ms (all threads)\n`);
process.exit(0);
