import * as tf from '@tensorflow/tfjs';
import { f32, groups, launch, toTensor, webgpuBackend, words } from './runner.js';
import { wgslBindings } from './wgsl.js';

/**
 * A LoRA projection y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ (W [out, in] frozen; A [r, in], B [out, r] trained) in
 * two WebGPU dispatches forward and four backward, instead of five and about eight tfjs kernels.
 * Every dispatch is one shader, C = α·P·Q + β·R·S with each operand read through strides (so
 * transposes cost nothing): a thread per output element, plain loops (no tiling: the labs' LoRA
 * shapes are small; a tiled version is the next step for billion-parameter models).
 */

const SHADER = /* wgsl */ `
struct Params {
  m: u32, n: u32, k1: u32, k2: u32, alpha: f32, beta: f32, pI: u32, pK: u32,
  qK: u32, qJ: u32, rI: u32, rL: u32, sL: u32, sJ: u32,
}
${wgslBindings(['P', 'Q', 'R', 'S'], ['C'])}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let i = gid.y;
  if (j >= p.n || i >= p.m) { return; }
  var a = 0.0;
  for (var k = 0u; k < p.k1; k++) { a += P[i * p.pI + k * p.pK] * Q[k * p.qK + j * p.qJ]; }
  var b = 0.0;
  for (var l = 0u; l < p.k2; l++) { b += R[i * p.rI + l * p.rL] * S[l * p.sL + j * p.sJ]; }
  C[i * p.n + j] = p.alpha * a + p.beta * b;
}
`;

/** An operand and its strides: element [a, b] at a·s0 + b·s1. */
type Operand = [tf.TensorInfo, number, number];

/** C [m, n] = α·P·Q (inner size k1) + β·R·S (inner size k2; omit for none). */
function product(
  m: number,
  n: number,
  k1: number,
  alpha: number,
  p: Operand,
  q: Operand,
  second?: { k2: number; beta: number; r: Operand; s: Operand },
): tf.Tensor2D {
  const backend = webgpuBackend();
  const r = second?.r ?? p;
  const s = second?.s ?? q;
  const [c] = launch(backend, 'introdl-lora-product', () => SHADER, {
    inputs: [p[0], q[0], r[0], s[0]],
    outputs: [[m, n]],
    uniforms: words(
      m,
      n,
      k1,
      second?.k2 ?? 0,
      f32(alpha),
      f32(second?.beta ?? 0),
      p[1],
      p[2],
      q[1],
      q[2],
      r[1],
      r[2],
      s[1],
      s[2],
    ),
    workgroups: [groups(n), m],
  });
  return toTensor<tf.Tensor2D>(c);
}

/** x [n, in] through a frozen W [out, in] plus the LoRA update s·(x·Aᵀ)·Bᵀ, on webgpu; differentiable in x, A, B. */
export function loraLinearWebGPU(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  scale: number,
): tf.Tensor2D {
  const [rows, inF] = x.shape;
  const outF = w.shape[0];
  const r = a.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, as, bs] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const save = args[3] as tf.GradSaveFunc;
    const down = product(rows, r, inF, 1, [xs, inF, 1], [as, 1, inF]); // x·Aᵀ
    const y = product(rows, outF, inF, 1, [xs, inF, 1], [w, 1, inF], {
      k2: r,
      beta: scale,
      r: [down, r, 1],
      s: [bs, 1, r],
    });
    save([xs, as, bs, down]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sa, sb, sdown] = saved;
        const ddown = product(rows, r, outF, scale, [dy, outF, 1], [sb, r, 1]); // s·dy·B
        const dx = product(rows, inF, outF, 1, [dy, outF, 1], [w, inF, 1], {
          k2: r,
          beta: 1,
          r: [ddown, r, 1],
          s: [sa, inF, 1],
        });
        const db = product(outF, r, rows, scale, [dy, 1, outF], [sdown, r, 1]); // s·dyᵀ·down
        const da = product(r, inF, rows, 1, [ddown, 1, r], [sx, inF, 1]); // ddownᵀ·x
        ddown.dispose();
        return [dx, da, db];
      },
    };
  });
  return op(x, a, b) as tf.Tensor2D;
}
