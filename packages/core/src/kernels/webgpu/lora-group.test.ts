import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../rng.js';
import { countGpuWork, gpuBreakdown } from '../../runtime/gpu-counters.js';
import { type LoraGroupOptions, loraLinearGroup } from '../transformer.js';
import { useWebGPUForTests, webgpuTestsEnabled } from './test-backend.js';
import { type Input, outputsAndGradients, randomInput, worstError } from './testing.js';

/** q, k, v-like projections of one x: different output sizes and scales, the same rank. */
const OUTS = [9, 4, 70];
const SCALES = [2.5, 1, 0.5];

describe.runIf(webgpuTestsEnabled())('grouped LoRA projections on WebGPU', () => {
  beforeAll(useWebGPUForTests);

  // Rank 70: more than one pass of the forward workgroup's 64 threads over x·Aᵀ.
  it.each([3, 70])(
    'three projections of rank %i match the tfjs ops on cpu: outputs and the gradients of x, every A and B within 1e-4',
    async (r) => {
      const [n, inF] = [5, 70];
      const rng = new Rng(17);
      const ws = OUTS.map((out) => randomInput([out, inF], rng));
      const inputs = [
        randomInput([n, inF], rng),
        ...OUTS.map(() => randomInput([r, inF], rng)),
        ...OUTS.map((out) => randomInput([out, r], rng)),
      ];
      const fn = (x: tf.Tensor, ...ab: tf.Tensor[]) =>
        loraLinearGroup(
          x as tf.Tensor2D,
          OUTS.map((out, q) => ({
            w: tf.tensor2d(ws[q].values, [out, inF]),
            a: ab[q] as tf.Tensor2D,
            b: ab[OUTS.length + q] as tf.Tensor2D,
            scale: SCALES[q],
          })),
        );
      await tf.setBackend('cpu');
      const want = await outputsAndGradients(fn, inputs);
      await tf.setBackend('webgpu');
      const got = await outputsAndGradients(fn, inputs);
      const { error, index } = worstError(got, want);
      expect(error, `worst relative error ${error} at result ${index}`).toBeLessThanOrEqual(1e-4);
    },
  );

  it('q, k, v: one dispatch forward and two backward for the whole group', async () => {
    await tf.setBackend('webgpu');
    const x = tf.randomNormal([4, 6]) as tf.Tensor2D;
    const ws = OUTS.map((out) => tf.randomNormal([out, 6]) as tf.Tensor2D);
    const as = OUTS.map(() => tf.randomNormal([2, 6]) as tf.Tensor2D);
    const bs = OUTS.map((out) => tf.randomNormal([out, 2]) as tf.Tensor2D);
    const run = (xx: tf.Tensor, ...ab: tf.Tensor[]) =>
      loraLinearGroup(
        xx as tf.Tensor2D,
        OUTS.map((_, q) => ({ w: ws[q], a: ab[q] as tf.Tensor2D, b: ab[3 + q] as tf.Tensor2D, scale: 2 })),
      );
    const forward = await countGpuWork(() => tf.tidy(() => run(x, ...as, ...bs).map((t) => tf.keep(t))));
    expect(forward.counts.dispatches).toBe(1);
    // Σ of every output: tfjs adds its own sums, their gradients and the adds (counted apart).
    const loss = (xx: tf.Tensor, ...ab: tf.Tensor[]) => tf.addN(run(xx, ...ab).map((t) => tf.sum(t))) as tf.Scalar;
    const lossOnly = await countGpuWork(() => tf.tidy(() => tf.keep(loss(x, ...as, ...bs))));
    const both = await countGpuWork(() => tf.tidy(() => tf.grads(loss)([x, ...as, ...bs])));
    const gradientOfSums = 3; // tfjs fills each sum's gradient
    expect(both.counts.dispatches - lossOnly.counts.dispatches).toBeLessThanOrEqual(2 + gradientOfSums);
    tf.dispose([x, ...ws, ...as, ...bs, ...forward.result, lossOnly.result, ...both.result]);
  });
});

/** The worst relative error of `fn`'s outputs and input gradients on webgpu against the cpu backend. */
async function errorAgainstCpu(fn: (...xs: tf.Tensor[]) => tf.Tensor[], inputs: Input[]): Promise<string> {
  await tf.setBackend('cpu');
  const want = await outputsAndGradients(fn, inputs);
  await tf.setBackend('webgpu');
  const got = await outputsAndGradients(fn, inputs);
  const { error, index } = worstError(got, want);
  return error <= 1e-4 ? 'ok' : `worst relative error ${error} at result ${index}`;
}

describe.runIf(webgpuTestsEnabled())('grouped LoRA with the work around it on WebGPU', () => {
  beforeAll(useWebGPUForTests);
  const [inF, r] = [70, 70];
  const rng = new Rng(23);
  const projection = (out: number) => ({ w: randomInput([out, inF], rng), a: randomInput([r, inF], rng, 0.1) });
  const lora = (w: Input, a: tf.Tensor, b: tf.Tensor, scale: number) => ({
    w: tf.tensor2d(w.values, w.shape as [number, number]),
    a: a as tf.Tensor2D,
    b: b as tf.Tensor2D,
    scale,
  });

  it('RMSNorm before q, k, v, x passed through, 70 rows: outputs and the gradients of x, the norm weight, every A and B within 1e-4 of cpu', async () => {
    const ps = OUTS.map(projection);
    const inputs = [
      randomInput([70, inF], rng, 3),
      randomInput([inF], rng),
      ...ps.map((p) => p.a),
      ...OUTS.map((out) => randomInput([out, r], rng, 0.1)),
    ];
    const fn = (x: tf.Tensor, nw: tf.Tensor, ...ab: tf.Tensor[]) =>
      loraLinearGroup(
        x as tf.Tensor2D,
        ps.map((p, q) => lora(p.w, ab[q], ab[OUTS.length + q], SCALES[q])),
        // x passed through as a fourth output: its gradient joins the norm's in one kernel
        { norm: { w: nw, eps: 1e-5 }, passInput: true },
      );
    expect(await errorAgainstCpu(fn, inputs)).toBe('ok');
  });

  it('RMSNorm, gate and up, SwiGLU, x passed through, 70 rows: silu(gate)·up and the gradients (one backward dispatch) within 1e-4 of cpu', async () => {
    const ps = [projection(90), projection(90)];
    const inputs = [
      randomInput([70, inF], rng),
      randomInput([inF], rng),
      ...ps.map((p) => p.a),
      ...ps.map(() => randomInput([90, r], rng, 0.1)),
    ];
    const fn = (x: tf.Tensor, nw: tf.Tensor, a0: tf.Tensor, a1: tf.Tensor, b0: tf.Tensor, b1: tf.Tensor) =>
      loraLinearGroup(x as tf.Tensor2D, [lora(ps[0].w, a0, b0, 2), lora(ps[1].w, a1, b1, 0.5)], {
        norm: { w: nw, eps: 1e-5 },
        swiglu: true,
        passInput: true,
      });
    expect(await errorAgainstCpu(fn, inputs)).toBe('ok');
  });

  // 70 rows: dA's pass over the rows takes them 64 at a time.
  it.each([5, 70])(
    'a residual after one projection, %i rows: the sum and the gradients of x, the residual, A and B within 1e-4 of cpu',
    async (rows) => {
      const p = projection(66);
      const inputs = [randomInput([rows, inF], rng), randomInput([rows, 66], rng), p.a, randomInput([66, r], rng, 0.1)];
      const fn = (x: tf.Tensor, res: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
        loraLinearGroup(x as tf.Tensor2D, [lora(p.w, a, b, 1.5)], { residual: res as tf.Tensor2D });
      expect(await errorAgainstCpu(fn, inputs)).toBe('ok');
    },
  );

  it('one projection after RMSNorm, x passed through, 70 rows: the gradients (all in one backward dispatch) within 1e-4 of cpu', async () => {
    const p = projection(40);
    const inputs = [randomInput([70, inF], rng, 2), randomInput([inF], rng), p.a, randomInput([40, r], rng, 0.1)];
    const fn = (x: tf.Tensor, nw: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
      loraLinearGroup(x as tf.Tensor2D, [lora(p.w, a, b, 0.7)], { norm: { w: nw, eps: 1e-5 }, passInput: true });
    expect(await errorAgainstCpu(fn, inputs)).toBe('ok');
  });

  // Wider than the forward kernel's workgroup copy of the row (2048): read in place.
  it('one projection of a 2100-wide row after RMSNorm: outputs and gradients within 1e-4 of cpu', async () => {
    const wide = 2100;
    const p = { w: randomInput([5, wide], rng), a: randomInput([4, wide], rng, 0.1) };
    const inputs = [randomInput([3, wide], rng), randomInput([wide], rng), p.a, randomInput([5, 4], rng, 0.1)];
    const fn = (x: tf.Tensor, nw: tf.Tensor, a: tf.Tensor, b: tf.Tensor) =>
      loraLinearGroup(x as tf.Tensor2D, [lora(p.w, a, b, 2)], { norm: { w: nw, eps: 1e-5 } });
    expect(await errorAgainstCpu(fn, inputs)).toBe('ok');
  });

  it('two projections without a norm, 70 rows (one backward dispatch): outputs and gradients within 1e-4 of cpu', async () => {
    const ps = [projection(30), projection(80)];
    const inputs = [
      randomInput([70, inF], rng),
      ...ps.map((p) => p.a),
      randomInput([30, r], rng, 0.1),
      randomInput([80, r], rng, 0.1),
    ];
    const fn = (x: tf.Tensor, a0: tf.Tensor, a1: tf.Tensor, b0: tf.Tensor, b1: tf.Tensor) =>
      loraLinearGroup(x as tf.Tensor2D, [lora(ps[0].w, a0, b0, 1), lora(ps[1].w, a1, b1, 3)]);
    expect(await errorAgainstCpu(fn, inputs)).toBe('ok');
  });

  it('takes them in its own dispatches: one forward, one or two backward as the buffers fit', async () => {
    await tf.setBackend('webgpu');
    const x = tf.randomNormal([4, 6]) as tf.Tensor2D;
    const nw = tf.randomNormal([6]);
    const w = tf.randomNormal([8, 6]) as tf.Tensor2D;
    const b = tf.randomNormal([8, 2]) as tf.Tensor2D;
    const res = tf.randomNormal([4, 8]) as tf.Tensor2D;
    const count = async (options: LoraGroupOptions, n: number) => {
      const run = (a: tf.Tensor) =>
        loraLinearGroup(
          x,
          Array.from({ length: n }, () => ({ w, a: a as tf.Tensor2D, b, scale: 2 })),
          options,
        )[0];
      const a = tf.randomNormal([2, 6]);
      // Our kernels' dispatches only (tfjs' sum of the output and its gradient are not the group's).
      const ours = () =>
        Object.entries(gpuBreakdown())
          .filter(([label]) => label.startsWith('introdl-'))
          .reduce((total, [, count]) => total + count, 0);
      const forward = await countGpuWork(() => tf.tidy(() => tf.keep(run(a))));
      const forwardOnly = ours();
      const both = await countGpuWork(() => tf.tidy(() => tf.grad((aa: tf.Tensor) => tf.sum(run(aa)) as tf.Scalar)(a)));
      tf.dispose([a, forward.result, both.result]);
      return [forwardOnly, ours() - forwardOnly];
    };
    // gate/up fits one backward kernel on llvmpipe's 16 buffers; q/k/v the weights' gradients,
    // then x's with the norm's backward inside
    expect(await count({ norm: { w: nw, eps: 1e-5 }, swiglu: true, passInput: true }, 2)).toEqual([1, 1]);
    expect(await count({ norm: { w: nw, eps: 1e-5 }, passInput: true }, 3)).toEqual([1, 2]);
    // a group of one (o_proj, down_proj) or two without a norm: one backward dispatch
    expect(await count({ residual: res }, 1)).toEqual([1, 1]);
    expect(await count({ norm: { w: nw, eps: 1e-5 }, passInput: true }, 1)).toEqual([1, 1]);
    tf.dispose([x, nw, w, b, res]);
  });
});
