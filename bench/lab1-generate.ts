/**
 * bench/lab1-generate: Lab 1's model (Embedding 256 → LSTM 1024 → Dense 83, random weights)
 * generating 1000 characters one at a time at batch 1, carrying the LSTM state (no re-run of the
 * prefix), sampling from the softmax. Reports characters per second.
 *   npx tsx bench/lab1-generate.ts [--backends wasm,cpu] [--length 1000] [--repeats 3]
 * Variants: `projected` (the embedding table projected through the LSTM kernel once, then one
 * matmul per character: `lstm.stepProjected`) and `step` (embedding lookup, then `lstm.step`).
 * Writes bench/results/lab1-generate.json; compare with bench/reference/lab1_generate.py's file.
 * `INTRODL_NATIVE=0` measures pure wasm when the native matmul addon is built (impl `…-openblas-…`).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Dense, Embedding, LSTM, type LstmState, Rng, tf } from '@introdl/core';
import { type BenchEntry, benchArgs, measure, median, report, tryBackend } from './lib/harness.js';

const VOCAB = 83;
const EMBED = 256;
const UNITS = 1024;

const args = benchArgs(['wasm', 'cpu']);
const { values } = parseArgs({ options: { length: { type: 'string' } }, strict: false });
const length = Number(values.length ?? 1000);

/** Draws an index from softmax(logits) with a seeded generator. */
function sample(logits: Float32Array, rng: Rng): number {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const p = Float64Array.from(logits, (v) => Math.exp(v - max));
  let r = rng.next() * p.reduce((a, b) => a + b, 0);
  for (let i = 0; i < p.length; i++) {
    r -= p[i];
    if (r <= 0) return i;
  }
  return p.length - 1;
}

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

function makeGenerator(variant: 'projected' | 'step', chars: number) {
  const rng = new Rng(1);
  const embedding = new Embedding({ inputDim: VOCAB, outputDim: EMBED, rng });
  const lstm = new LSTM({ inputs: EMBED, units: UNITS, rng });
  const dense = new Dense({ inputs: UNITS, units: VOCAB, rng });
  const generate = () => {
    // Projecting the table is part of the work timed: it is done once per generation.
    const table = variant === 'projected' ? lstm.projectInputs(embedding.embeddings as tf.Tensor as tf.Tensor2D) : null;
    let state: LstmState = lstm.initialState(1);
    let id = 5;
    for (let k = 0; k < chars; k++) {
      let next: LstmState;
      if (table) {
        const zx = tf.slice(table, [id, 0], [1, 4 * UNITS]);
        next = lstm.stepProjected(zx, state);
        zx.dispose();
      } else {
        const x = tf.slice(embedding.embeddings, [id, 0], [1, EMBED]);
        next = lstm.step(x as tf.Tensor2D, state);
        x.dispose();
      }
      tf.dispose([state.h, state.c]);
      state = next;
      const logits = dense.apply(state.h);
      id = sample(logits.dataSync() as Float32Array, rng);
      logits.dispose();
    }
    tf.dispose([state.h, state.c, ...(table ? [table] : [])]);
  };
  const dispose = () => {
    for (const layer of [embedding, lstm, dense]) for (const v of layer.variables().values()) v.dispose();
  };
  return { generate, dispose };
}

/** `-openblas` when the native addon does wasm's matmuls (run with INTRODL_NATIVE=0 for pure wasm). */
function matmulTag(detail: string): string {
  return /matmul: OpenBLAS/.test(detail) ? '-openblas' : '';
}

const entries: BenchEntry[] = [];
for (const name of args.backends) {
  const sel = await tryBackend(name);
  if (!sel) continue;
  // The cpu backend's matmul is about 50× slower: a shorter run gives the same rate.
  const chars = name === 'cpu' ? Math.min(length, 50) : length;
  for (const variant of ['projected', 'step'] as const) {
    const { generate, dispose } = makeGenerator(variant, chars);
    const { timed, cpuMs } = withCpuTime(generate);
    const r = await measure(timed, { warmup: args.warmup ?? 1, repeats: args.repeats ?? 3 });
    dispose();
    entries.push({
      workload: name === 'cpu' ? 'lab1-generate-short' : 'lab1-generate',
      impl: `tfjs-${name}${matmulTag(sel.detail)}-${variant}`,
      backend: name,
      device: sel.detail,
      params: {
        length: chars,
        batch: 1,
        units: UNITS,
        stateful: true,
        variant,
        loadAverage: os.loadavg()[0],
        cpuMsMedian: median(cpuMs),
      },
      ...r,
      throughput: { value: chars / (r.medianMs / 1000), unit: 'chars/s' },
    });
  }
}
report('lab1-generate', entries, args.out);
process.exit(0);
