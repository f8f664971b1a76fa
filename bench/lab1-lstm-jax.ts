/**
 * bench/lab1-lstm-jax: the Lab 1 training step (Embedding → LSTM → Dense, softmax cross-entropy,
 * Adam) written in @jax-js/jax and `jit`-compiled, on its WebGPU device: the "weigh a
 * maintained fusing engine first" experiment. Counts GPU dispatches per step like the other benches.
 *   npx tsx bench/lab1-lstm-jax.ts [--batch 2] [--seq 20,40] [--units 64] [--repeats 3]
 * Needs WebGPU (a GPU, or Mesa llvmpipe through core's software adapter). jax-js has no scan, so
 * the time loop is unrolled into the traced graph; the embedding is a one-hot matmul because the
 * gradient of `take` (a scatter) does not compile under jit in 0.1.25. Measured on llvmpipe:
 * about 35 dispatches per time step (seq 20: 756 per step, seq 40: 1464), against 2.5 for core's
 * WGSL kernels, so `--backend webgpu` uses those. Writes bench/results/lab1-lstm-jax.json.
 */
import { parseArgs } from 'node:util';
import { countGpuWork, registerWebGPUBackend, useBackend } from '@introdl/core';
import { type BenchEntry, measure, report } from './lib/harness.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string' },
    seq: { type: 'string' },
    units: { type: 'string' },
    repeats: { type: 'string' },
    out: { type: 'string' },
  },
  strict: false,
});
const batch = Number(values.batch ?? 2);
const units = Number(values.units ?? 64);
const seqs = String(values.seq ?? '20,40')
  .split(',')
  .map(Number);
const VOCAB = 83;
const EMBED = 16;

// navigator.gpu from core (a GPU, else llvmpipe); jax-js asks for its own adapter without the
// compatibility feature level that OpenGL ES needs, so add it when on the software adapter.
const found = await registerWebGPUBackend();
await useBackend('webgpu'); // the harness reads tfjs' memory counters
const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
if (found.software) {
  const request = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = (o?: GPURequestAdapterOptions) =>
    request({ ...o, featureLevel: 'compatibility' } as GPURequestAdapterOptions);
}
const jax = await import('@jax-js/jax');
const { numpy: np, nn, jit, valueAndGrad, init, defaultDevice, tree } = jax;
type A = InstanceType<typeof jax.Array>;
const devices = await init();
if (!devices.includes('webgpu')) throw new Error(`jax-js found no WebGPU device (devices: ${devices.join(', ')})`);
defaultDevice('webgpu');

const random = (shape: number[], scale = 0.1): A =>
  np
    .array(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (Math.random() - 0.5) * scale))
    .reshape(shape);
const oneHot = (n: number): A =>
  nn.oneHot(
    np.array(
      Int32Array.from({ length: n }, () => Math.floor(Math.random() * VOCAB)),
      { dtype: np.int32 },
    ),
    VOCAB,
  );

type Params = { emb: A; W: A; U: A; b: A; Wd: A; bd: A };

/** One step's loss, written with jax-js' ownership rules (every use after the first takes `.ref`). */
function makeLoss(seq: number) {
  return (p: Params, ids: A, labels: A): A => {
    const x = np.matmul(ids, p.emb); // [B·T, E]
    const xp = np
      .matmul(x, p.W)
      .add(p.b)
      .reshape([batch, seq, 4 * units]);
    let h: A = np.zeros([batch, units]);
    let c: A = np.zeros([batch, units]);
    const hs: A[] = [];
    for (let t = 0; t < seq; t++) {
      const z = xp.ref.slice([], t).add(np.matmul(h, p.U.ref));
      const [zi, zf, zc, zo] = np.split(z, 4, 1);
      c = nn
        .sigmoid(zf)
        .mul(c)
        .add(nn.sigmoid(zi).mul(np.tanh(zc)));
      h = nn.sigmoid(zo).mul(np.tanh(c.ref));
      hs.push(h.ref);
    }
    h.dispose();
    c.dispose();
    xp.dispose();
    p.U.dispose();
    const logits = np.matmul(np.stack(hs, 1).reshape([batch * seq, units]), p.Wd).add(p.bd);
    return nn
      .logSoftmax(logits)
      .mul(labels)
      .sum()
      .mul(-1 / (batch * seq));
  };
}

const entries: BenchEntry[] = [];
for (const seq of seqs) {
  const loss = makeLoss(seq);
  const [lr, b1, b2, eps] = [5e-3, 0.9, 0.999, 1e-8];
  const step = jit((p: Params, m: Params, v: Params, c1: A, c2: A, ids: A, labels: A) => {
    const [l, g] = valueAndGrad(loss)(tree.ref(p), ids, labels);
    const nm = tree.map((mm: A, gg: A) => mm.mul(b1).add(gg.ref.mul(1 - b1)), m, g) as Params;
    const nv = tree.map((vv: A, gg: A) => vv.mul(b2).add(gg.ref.mul(gg).mul(1 - b2)), v, g) as Params;
    const np2 = tree.map(
      (pp: A, mm: A, vv: A) =>
        pp.sub(
          mm.ref
            .div(c1.ref)
            .div(np.sqrt(vv.ref.div(c2.ref)).add(eps))
            .mul(lr),
        ),
      p,
      nm,
      nv,
    ) as Params;
    c1.dispose();
    c2.dispose();
    return [l, np2, nm, nv];
  });
  let params: Params = {
    emb: random([VOCAB, EMBED]),
    W: random([EMBED, 4 * units]),
    U: random([units, 4 * units]),
    b: random([4 * units]),
    Wd: random([units, VOCAB]),
    bd: random([VOCAB]),
  };
  let m = tree.map((x: A) => np.zerosLike(x.ref), params) as Params;
  let v = tree.map((x: A) => np.zerosLike(x.ref), params) as Params;
  const ids = oneHot(batch * seq);
  const labels = oneHot(batch * seq);
  let k = 0;
  const run = async () => {
    k++;
    const [l, p2, m2, v2] = step(params, m, v, np.array(1 - b1 ** k), np.array(1 - b2 ** k), ids.ref, labels.ref) as [
      A,
      Params,
      Params,
      Params,
    ];
    await l.data();
    params = p2;
    m = m2;
    v = v2;
  };
  const r = await measure(run, { warmup: 1, repeats: Number(values.repeats ?? 3) });
  const gpuCounts = (await countGpuWork(run)).counts;
  entries.push({
    workload: `lab1-lstm-step-jax-seq${seq}`,
    impl: 'jax-js-webgpu-jit',
    backend: 'webgpu',
    device: found.description,
    params: {
      batch,
      seq,
      units,
      embedding: EMBED,
      vocab: VOCAB,
      optimizer: 'adam',
      dispatchesPerTimeStep: gpuCounts.dispatches / seq,
    },
    ...r,
    gpu: gpuCounts,
  });
}
report('lab1-lstm-jax', entries, values.out as string | undefined);
process.exit(0);
