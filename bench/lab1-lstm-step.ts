/**
 * bench/lab1-lstm-step: one Lab 1 training step (Embedding 256 → LSTM 1024 → Dense 83, batch 8,
 * sequence 100, core Adam 5e-3, softmax cross-entropy) through the code path the Trainer uses.
 *   npx tsx bench/lab1-lstm-step.ts [--backends wasm,cpu] [--repeats 5] [--variants fused,plain,tfops]
 * Implementations: `fused` (the default LSTM: the fused op, typed-array gate loops on CPU backends),
 * `tfops` (the fused op with tfjs ops for the gates, as on device backends), `plain` (per-step tfjs
 * ops under autograd, what `INTRODL_FUSED=0` runs). The cpu backend is about 50× slower than wasm, so
 * it runs a tiny configuration (its own workload name). Writes bench/results/lab1-lstm-step.json;
 * compare with bench/reference/lab1_lstm_step.py's file. When the native addon (@introdl/native)
 * loads, wasm's matmuls run on OpenBLAS (impl `tfjs-wasm-openblas-…`); `INTRODL_NATIVE=0` measures
 * pure wasm (write it elsewhere with `--out`). Params record the load average and each run's CPU time.
 * On `--backends webgpu`, `fused` runs our WGSL kernels (one dispatch per time step each way, fused
 * Adam) and `tfops`/`plain` run stock tfjs kernels (INTRODL_WEBGPU_FUSED=0): the before and after of
 * fusion; each entry records the GPU dispatches, uploads and readbacks of one step (`gpu`), and
 * `dispatchesPerTimeStep`. `--seq`, `--batch`, `--units` shrink the step (e.g. on a software adapter).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  Adam,
  Dense,
  Embedding,
  LSTM,
  lstmSequenceFused,
  optimizerStep,
  Rng,
  softmaxCrossEntropy,
  tf,
} from '@introdl/core';
import { type BenchEntry, benchArgs, countGpu, measure, median, report, tryBackend } from './lib/harness.js';

const VOCAB = 83;
const EMBED = 256;

interface Size {
  batch: number;
  seq: number;
  units: number;
}

type Variant = 'fused' | 'tfops' | 'plain';

const args = benchArgs(['wasm', 'cpu']);
const { values } = parseArgs({
  options: {
    variants: { type: 'string' },
    batch: { type: 'string' },
    units: { type: 'string' },
    seq: { type: 'string' },
  },
  strict: false,
});
const variants = ((values.variants as string | undefined) ?? 'fused,tfops,plain').split(',') as Variant[];
const full: Size = {
  batch: Number(values.batch ?? 8),
  seq: Number(values.seq ?? 100),
  units: Number(values.units ?? 1024),
};
const tiny: Size = { batch: 2, seq: 20, units: 128 };

/**
 * Wraps `fn` to also record the process CPU time of each call: this machine is shared, and on a
 * loaded machine CPU time shows what the work itself costs (wasm runs on one thread).
 */
function withCpuTime(fn: () => Promise<void> | void) {
  const cpuMs: number[] = [];
  const timed = async () => {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    cpuMs.push((used.user + used.system) / 1000);
  };
  return { timed, cpuMs };
}

/** One Adam step of the Lab 1 model at `size`, as a function to time. */
function makeStep(size: Size, variant: Variant) {
  const rng = new Rng(1);
  const embedding = new Embedding({ inputDim: VOCAB, outputDim: EMBED, rng });
  const lstm = new LSTM({ inputs: EMBED, units: size.units, rng, fused: variant !== 'plain' });
  const dense = new Dense({ inputs: size.units, units: VOCAB, rng });
  const vars = new Map<string, tf.Variable>();
  for (const [prefix, layer] of [
    ['embedding', embedding],
    ['lstm', lstm],
    ['dense', dense],
  ] as const) {
    for (const [k, v] of layer.variables()) vars.set(`${prefix}/${k}`, v);
  }
  const optimizer = new Adam(5e-3);
  const n = size.batch * size.seq;
  const ids = tf.tensor2d(
    Int32Array.from({ length: n }, () => rng.int(VOCAB)),
    [size.batch, size.seq],
    'int32',
  );
  const labels = tf.tensor1d(
    Int32Array.from({ length: n }, () => rng.int(VOCAB)),
    'int32',
  );
  const sequence = (x: tf.Tensor3D) =>
    variant === 'tfops'
      ? lstmSequenceFused(
          x,
          {
            kernel: lstm.kernel as tf.Tensor as tf.Tensor2D,
            recurrentKernel: lstm.recurrentKernel as tf.Tensor as tf.Tensor2D,
            bias: lstm.bias as tf.Tensor as tf.Tensor1D,
          },
          lstm.initialState(size.batch),
          'tensors',
        ).outputs
      : lstm.apply(x);
  const step = async () => {
    // On webgpu, the variants other than `fused` measure stock tfjs kernels (the "before" of fusion).
    const stock = variant !== 'fused';
    const saved = process.env.INTRODL_WEBGPU_FUSED;
    if (stock) process.env.INTRODL_WEBGPU_FUSED = '0';
    const loss = optimizerStep(vars, optimizer, () => {
      const h = sequence(embedding.apply(ids) as tf.Tensor3D);
      const logits = dense.apply(tf.reshape(h, [n, size.units]));
      return softmaxCrossEntropy(labels, logits) as tf.Scalar;
    });
    if (stock) {
      if (saved === undefined) delete process.env.INTRODL_WEBGPU_FUSED;
      else process.env.INTRODL_WEBGPU_FUSED = saved;
    }
    await loss.data();
    loss.dispose();
  };
  const dispose = () => {
    for (const v of vars.values()) v.dispose();
    optimizer.dispose();
    tf.dispose([ids, labels]);
  };
  return { step, dispose };
}

/** `-openblas` when the native addon does wasm's matmuls (run with INTRODL_NATIVE=0 for pure wasm). */
function matmulTag(detail: string): string {
  return /matmul: OpenBLAS/.test(detail) ? '-openblas' : '';
}

const entries: BenchEntry[] = [];
for (const name of args.backends) {
  const sel = await tryBackend(name);
  if (!sel) continue;
  const size = name === 'cpu' ? tiny : full;
  const workload = name === 'cpu' ? 'lab1-lstm-step-tiny' : 'lab1-lstm-step';
  for (const variant of variants) {
    const { step, dispose } = makeStep(size, variant);
    const slow = variant !== 'fused';
    const { timed, cpuMs } = withCpuTime(step);
    const r = await measure(timed, { warmup: args.warmup ?? 1, repeats: args.repeats ?? (slow ? 3 : 5) });
    const gpu = await countGpu(step);
    dispose();
    entries.push({
      workload,
      impl: `tfjs-${name}${matmulTag(sel.detail)}-${variant}`,
      backend: name,
      device: sel.detail,
      params: {
        ...size,
        embedding: EMBED,
        vocab: VOCAB,
        optimizer: 'adam',
        variant,
        loadAverage: os.loadavg()[0],
        cpuMsMedian: median(cpuMs),
        ...(gpu ? { dispatchesPerTimeStep: gpu.dispatches / size.seq } : {}),
      },
      ...r,
      ...(gpu ? { gpu } : {}),
      throughput: { value: (size.batch * size.seq) / (r.medianMs / 1000), unit: 'chars/s' },
    });
  }
}
report('lab1-lstm-step', entries, args.out);
process.exit(0);
