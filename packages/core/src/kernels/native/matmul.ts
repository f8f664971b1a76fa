import type { KernelWrap, NativeAddon, TensorInfo } from './types.js';
import { allFloat32, heap, output } from './types.js';

/**
 * BatchMatMul and _FusedMatMul (tf.layers.dense) as OpenBLAS sgemm on the wasm heap. Transposed
 * operands are passed to sgemm as such (no explicit transpose), and batch dimensions broadcast.
 */

/** The matmul kernels, by kernel name. */
export function matMulKernels(addon: NativeAddon): Record<string, KernelWrap> {
  return { BatchMatMul: batchMatMul(addon), _FusedMatMul: fusedMatMul(addon) };
}

/**
 * How one BatchMatMul maps onto sgemm calls (null when we leave it to the previous kernel):
 * - `fold`: b is one matrix and a is not transposed, so a's batch folds into its rows: one sgemm;
 * - `strided`: each side is one matrix or one per product (stride 0 broadcasts): one batched call;
 * - `pairs`: broadcasting across different batch axes ([2,1] × [3]): one sgemm per product.
 */
type MatMulPlan = { outShape: number[]; M: number; N: number; K: number } & (
  | { kind: 'fold' }
  | { kind: 'gemv' }
  | { kind: 'strided'; batch: number; strideA: number; strideB: number }
  | { kind: 'pairs'; pairs: [number, number][] }
);

/** Products with at most this many output rows in all are left to the previous (wasm) kernel. */
const SMALL_PRODUCT_ROWS = 4;

function planMatMul(
  aShape: number[],
  bShape: number[],
  transA: boolean,
  transB: boolean,
  hasGemv: boolean,
): MatMulPlan | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const M = transA ? aShape[ra - 1] : aShape[ra - 2];
  const K = transA ? aShape[ra - 2] : aShape[ra - 1];
  const N = transB ? bShape[rb - 2] : bShape[rb - 1];
  if ((transB ? bShape[rb - 1] : bShape[rb - 2]) !== K) return null; // the previous kernel says what is wrong
  if (M === 0 || N === 0 || K === 0) return null;
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const rank = Math.max(outerA.length, outerB.length);
  const padA = [...Array(rank - outerA.length).fill(1), ...outerA];
  const padB = [...Array(rank - outerB.length).fill(1), ...outerB];
  const outer: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (padA[i] !== padB[i] && padA[i] !== 1 && padB[i] !== 1) return null;
    outer.push(padA[i] === 1 ? padB[i] : padA[i]);
  }
  const size = (dims: number[]) => dims.reduce((p, d) => p * d, 1);
  const [batch, batchA, batchB] = [size(outer), size(padA), size(padB)];
  if (batch === 0) return null;
  // A few rows (a matrix–vector product, as in generation one token at a time) stay on wasm: its
  // library keeps the weights packed, while OpenBLAS repacks a 1024×4096 matrix on every call
  // (measured M = 1: wasm 0.55 ms, OpenBLAS 2.5 ms; from M = 8 on OpenBLAS wins).
  const base = { outShape: [...outer, M, N], M, N, K };
  // A few rows times one transposed matrix (x·Wᵀ, a Linear layer generating one token): wasm would
  // transpose all of W first (its transposed matmul is slow, so it is rewritten as transpose +
  // matmul); sgemv reads W as it lies, on every core.
  if (M * batch <= SMALL_PRODUCT_ROWS && transB && !transA && batchB === 1 && hasGemv) return { ...base, kind: 'gemv' };
  if (M * batch <= SMALL_PRODUCT_ROWS) return null;
  if (batchB === 1 && !transA) return { ...base, kind: 'fold' };
  if ((batchA === 1 || batchA === batch) && (batchB === 1 || batchB === batch)) {
    return { ...base, kind: 'strided', batch, strideA: batchA === 1 ? 0 : M * K, strideB: batchB === 1 ? 0 : K * N };
  }
  const pairs: [number, number][] = [];
  const index = new Array(rank).fill(0);
  for (let n = 0; n < batch; n++) {
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < rank; i++) {
      ia = ia * padA[i] + (padA[i] === 1 ? 0 : index[i]);
      ib = ib * padB[i] + (padB[i] === 1 ? 0 : index[i]);
    }
    pairs.push([ia, ib]);
    for (let i = rank - 1; i >= 0; i--) {
      if (++index[i] < outer[i]) break;
      index[i] = 0;
    }
  }
  return { ...base, kind: 'pairs', pairs };
}

/** Runs the plan's products from a and b into out (all on the wasm heap). */
function runMatMul(
  addon: NativeAddon,
  p: MatMulPlan,
  A: Float32Array,
  B: Float32Array,
  C: Float32Array,
  transA: boolean,
  transB: boolean,
) {
  const { M, N, K } = p;
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  switch (p.kind) {
    case 'gemv':
      // C[m, :] = B · A[m, :] for B [N, K] (one sgemv per row)
      for (let m = 0; m < C.length / N; m++) {
        addon.sgemv!(false, N, K, 1, B, K, A.subarray(m * K, (m + 1) * K), 0, C.subarray(m * N, (m + 1) * N));
      }
      return;
    case 'fold':
      addon.sgemm(false, transB, C.length / N, N, K, 1, A, K, B, ldb, 0, C, N);
      return;
    case 'strided':
      addon.sgemmStridedBatched(
        transA,
        transB,
        M,
        N,
        K,
        1,
        A,
        lda,
        p.strideA,
        B,
        ldb,
        p.strideB,
        0,
        C,
        N,
        M * N,
        p.batch,
      );
      return;
    case 'pairs':
      for (const [i, [ia, ib]] of p.pairs.entries()) {
        const a = A.subarray(ia * M * K, (ia + 1) * M * K);
        const b = B.subarray(ib * K * N, (ib + 1) * K * N);
        addon.sgemm(transA, transB, M, N, K, 1, a, lda, b, ldb, 0, C.subarray(i * M * N, (i + 1) * M * N), N);
      }
  }
}

function batchMatMul(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeBatchMatMul(args) {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const plan = allFloat32(a, b) ? planMatMul(a.shape, b.shape, transposeA, transposeB, Boolean(addon.sgemv)) : null;
      if (!plan) return previous(args);
      const out = output(args.backend, plan.outShape);
      runMatMul(
        addon,
        plan,
        heap(args.backend, a),
        heap(args.backend, b),
        heap(args.backend, out),
        transposeA,
        transposeB,
      );
      return out;
    };
}

/** ReLU and linear are what tfjs-layers fuses (Dense, Conv2D); other activations go to the previous kernel. */
export function activationCode(name: unknown): 0 | 1 | null {
  if (name === undefined || name === null || name === 'linear') return 0;
  return name === 'relu' ? 1 : null;
}

/** A bias we can add row by row: float32 with exactly `cols` elements along the last axis. */
export function isRowBias(bias: TensorInfo | undefined, cols: number): boolean {
  if (!bias) return true;
  const size = bias.shape.reduce((p, d) => p * d, 1);
  return bias.dtype === 'float32' && size === cols && bias.shape[bias.shape.length - 1] === cols;
}

function fusedMatMul(addon: NativeAddon): KernelWrap {
  return (previous) =>
    function nativeFusedMatMul(args) {
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
      const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string };
      const act = activationCode(attrs.activation);
      const plan =
        a && b && allFloat32(a, b) && act !== null && !preluActivationWeights
          ? planMatMul(a.shape, b.shape, attrs.transposeA, attrs.transposeB, Boolean(addon.sgemv))
          : null;
      if (!plan || !a || !b || act === null || !isRowBias(bias, plan.N)) return previous(args);
      const out = output(args.backend, plan.outShape);
      const C = heap(args.backend, out);
      runMatMul(addon, plan, heap(args.backend, a), heap(args.backend, b), C, attrs.transposeA, attrs.transposeB);
      if (bias || act) addon.biasActivation(C, plan.N, bias ? heap(args.backend, bias) : null, act);
      return out;
    };
}
