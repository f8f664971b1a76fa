import * as tf from '@tensorflow/tfjs';

/**
 * Kernel fixes for the wasm backend (see the engine notes): its BatchMatMul with transposeA is about
 * 40× slower than without, and with transposeB about 9×, and every matmul gradient uses those flags.
 * We re-register BatchMatMul so that a transposed operand is transposed explicitly first (a fast wasm
 * Transpose) and the plain, fast matmul does the work.
 */

type KernelFunc = tf.KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;

let registered = false;

/** Calls another registered wasm kernel from inside a kernel. */
function callKernel(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap, backend: unknown): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend: backend as tf.KernelBackend }) as TensorInfo;
}

/** Swaps the last two axes of a rank ≥ 2 tensor with the wasm Transpose kernel. */
function transposeLastTwo(x: TensorInfo, backend: unknown): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return callKernel('Transpose', { x }, { perm }, backend);
}

function fastTransposedMatMul(original: KernelFunc): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return original({ inputs, attrs, backend });
    const disposable: TensorInfo[] = [];
    let a = inputs.a as TensorInfo;
    let b = inputs.b as TensorInfo;
    if (transposeA) {
      a = transposeLastTwo(a, backend);
      disposable.push(a);
    }
    if (transposeB) {
      b = transposeLastTwo(b, backend);
      disposable.push(b);
    }
    const out = original({
      inputs: { ...inputs, a, b },
      attrs: { ...attrs, transposeA: false, transposeB: false },
      backend,
    });
    for (const t of disposable) (backend as tf.KernelBackend).disposeData(t.dataId);
    return out;
  };
}

/** Re-registers `kernelName` on wasm with `wrap(original)`. */
function override(kernelName: string, wrap: (original: KernelFunc) => KernelFunc): void {
  const config = tf.getKernel(kernelName, 'wasm');
  if (!config) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: wrap(config.kernelFunc) });
}

/** Registers the wasm kernel fixes once. Set `INTRODL_WASM_FIXES=0` to compare against the stock kernels. */
export function registerWasmKernelFixes(): void {
  if (registered || process.env.INTRODL_WASM_FIXES === '0') return;
  registered = true;
  override('BatchMatMul', fastTransposedMatMul);
}
