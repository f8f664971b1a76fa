/**
 * bench/core-matmul: square float32 matrix products on every backend that works here.
 *   npx tsx bench/core-matmul.ts [--backends webgpu,wasm,cpu] [--sizes 256,1024,2048] [--repeats 5]
 * Writes bench/results/core-matmul.json. Throughput is 2n³ FLOP per product.
 */
import { parseArgs } from 'node:util';
import { tf } from '@introdl/core';
import { type BenchEntry, benchArgs, measure, report, tryBackend } from './lib/harness.js';

const args = benchArgs(['webgpu', 'node', 'wasm', 'cpu']);
const { values } = parseArgs({ options: { sizes: { type: 'string' } }, strict: false });
const sizes = ((values.sizes as string | undefined) ?? '256,1024,2048').split(',').map(Number);
const entries: BenchEntry[] = [];

for (const name of args.backends) {
  const sel = await tryBackend(name);
  if (!sel) continue;
  for (const n of sizes) {
    // The cpu backend takes about 30 s for one 2048³ product: keep it to the small sizes.
    if (name === 'cpu' && n > 512) continue;
    const a = tf.randomNormal([n, n]);
    const b = tf.randomNormal([n, n]);
    const r = await measure(
      async () => {
        // On webgpu read back one element (a one-element slice, one tiny dispatch): copying the whole
        // product would be most of the time, and tf.sum over all n² elements is one workgroup's
        // serial loop on webgpu, which inflated the first H200 run's 4096 time).
        const c =
          name === 'webgpu' ? tf.tidy(() => tf.slice(tf.matMul(a, b), [n - 1, n - 1], [1, 1])) : tf.matMul(a, b);
        await c.data();
        c.dispose();
      },
      { warmup: args.warmup ?? 1, repeats: args.repeats ?? (n >= 2048 ? 3 : 5) },
    );
    tf.dispose([a, b]);
    entries.push({
      workload: `matmul-${n}`,
      impl: `tfjs-${name}`,
      backend: name,
      device: sel.detail,
      params: { n, dtype: 'float32' },
      ...r,
      throughput: { value: (2 * n ** 3) / (r.medianMs / 1000) / 1e9, unit: 'GFLOP/s' },
    });
  }
}
report('core-matmul', entries, args.out);
process.exit(0);
