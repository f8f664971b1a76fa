import type * as tf from '@tensorflow/tfjs';
import { callKernel, disposeAll, type KernelFunc } from './backend.js';

/** Swaps the last two axes of a rank ≥ 2 tensor with the wasm Transpose kernel. */
function transposeLastTwo(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return callKernel('Transpose', { x }, { perm }, backend);
}

/**
 * Wraps wasm's `BatchMatMul`: its transposeA path is about 40× slower than the plain one, and
 * transposeB about 9×, and every matmul gradient uses those flags. A transposed operand is transposed
 * explicitly first (a fast wasm Transpose) and the plain, fast matmul does the work.
 */
export function fastTransposedMatMul(original: KernelFunc): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original({ inputs, attrs, backend });
    const temps: tf.TensorInfo[] = [];
    let a = inputs.a as tf.TensorInfo;
    let b = inputs.b as tf.TensorInfo;
    if (transposeA) {
      a = transposeLastTwo(a, backend);
      temps.push(a);
    }
    if (transposeB) {
      b = transposeLastTwo(b, backend);
      temps.push(b);
    }
    const out = original({
      inputs: { ...inputs, a, b },
      attrs: { ...attrs, transposeA: false, transposeB: false },
      backend,
    }) as tf.TensorInfo;
    disposeAll(backend, temps);
    return out;
  };
}
