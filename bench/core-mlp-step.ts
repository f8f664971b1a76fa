/**
 * bench/core-mlp-step: one training step of the demo's MLP (784-256-256-10, batch 32, Adam, dropout)
 * through the core Trainer's code path (variableGrads + core Adam), on every backend that works here.
 *   npx tsx bench/core-mlp-step.ts [--backends wasm,cpu] [--batch 32] [--repeats 20]
 * Writes bench/results/core-mlp-step.json.
 */
import { parseArgs } from 'node:util';
import { Adam, mlp, optimizerStep, Rng, softmaxCrossEntropy, tf } from '@introdl/core';
import { type BenchEntry, benchArgs, measure, report, tryBackend } from './lib/harness.js';

const args = benchArgs(['webgpu', 'node', 'wasm', 'cpu']);
const { values } = parseArgs({ options: { batch: { type: 'string' }, hidden: { type: 'string' } }, strict: false });
const batch = Number(values.batch ?? 32);
const hidden = Number(values.hidden ?? 256);
const entries: BenchEntry[] = [];

for (const name of args.backends) {
  const sel = await tryBackend(name);
  if (!sel) continue;
  const model = mlp([784, hidden, hidden, 10], { dropout: 0.3, seed: 1 });
  const optimizer = new Adam(1e-3);
  const vars = model.variables();
  const rng = new Rng(1);
  const x = tf.randomUniform([batch, 784]);
  const y = tf.tensor(
    Array.from({ length: batch }, (_, i) => i % 10),
    [batch],
    'int32',
  );
  const step = async () => {
    const loss = optimizerStep(
      vars,
      optimizer,
      () => softmaxCrossEntropy(y, model.apply(x, { training: true, rng })) as tf.Scalar,
    );
    await loss.data();
    loss.dispose();
  };
  const r = await measure(step, { warmup: args.warmup ?? 3, repeats: args.repeats ?? 20 });
  entries.push({
    workload: 'core-mlp-step',
    impl: `tfjs-${name}`,
    backend: name,
    device: sel.detail,
    params: { layers: [784, hidden, hidden, 10], batch, optimizer: 'adam', dropout: 0.3 },
    ...r,
    throughput: { value: batch / (r.medianMs / 1000), unit: 'examples/s' },
  });
  model.dispose();
  optimizer.dispose();
  tf.dispose([x, y]);
}
report('core-mlp-step', entries, args.out);
process.exit(0);
