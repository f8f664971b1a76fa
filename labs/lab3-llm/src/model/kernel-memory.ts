import type { tf } from '@introdl/core';

/**
 * How Lab 3's own kernels (packed weights, cross-entropy) reach tensor memory on the backends they
 * are registered for: the cpu backend's typed arrays, and the wasm backend's heap (views, no copy).
 */
export interface KernelMemory {
  read(t: tf.TensorInfo): Float32Array | Int32Array;
  /** Allocates a float32 output; `fill` writes it (take views inside it: allocating may grow the heap). */
  output(shape: number[], fill: (out: Float32Array) => void): tf.TensorInfo;
}

interface CpuBackend {
  data: { get(id: tf.DataId): { values: Float32Array | Int32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
}

export function cpuMemory(backend: unknown): KernelMemory {
  const cpu = backend as CpuBackend;
  return {
    read: (t) => cpu.data.get(t.dataId).values,
    output: (shape, fill) => {
      const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fill(out);
      return cpu.makeTensorInfo(shape, 'float32', out);
    },
  };
}

export function wasmMemory(backend: unknown): KernelMemory {
  const wasm = backend as WasmBackend;
  return {
    read: (t) => wasm.typedArrayFromHeap(t),
    output: (shape, fill) => {
      const out = wasm.makeOutput(shape, 'float32');
      fill(wasm.typedArrayFromHeap(out) as Float32Array);
      return out;
    },
  };
}

/** The backends these kernels are registered for, with their memory access. */
export const KERNEL_BACKENDS: [string, (backend: unknown) => KernelMemory][] = [
  ['cpu', cpuMemory],
  ['wasm', wasmMemory],
];
