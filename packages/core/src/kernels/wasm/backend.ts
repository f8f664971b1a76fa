import * as tf from '@tensorflow/tfjs';

/**
 * The few members of tfjs' wasm backend (`BackendWasm`) that our kernels use: allocating an output
 * on the wasm heap and viewing a tensor's bytes there without copying.
 */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: tf.DataId): boolean;
}

export type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Calls another registered wasm kernel from inside a kernel (no tape, no engine bookkeeping). */
export function callKernel(
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  backend: unknown,
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, attrs, backend: backend as tf.KernelBackend }) as tf.TensorInfo;
}

/** Frees kernel intermediates. */
export function disposeAll(backend: unknown, infos: tf.TensorInfo[]): void {
  for (const t of infos) (backend as WasmBackend).disposeData(t.dataId);
}
