import * as tf from '@tensorflow/tfjs';
import { type KernelWrap, type NativeAddon, nativeKernelWraps } from '../kernels/native/index.js';

/**
 * Native CPU kernels for the wasm backend. wasm SIMD is 128 bits wide and single-threaded in Node,
 * which caps a matmul near 20 GFLOP/s; the optional `@introdl/native` addon runs OpenBLAS (AVX2/FMA,
 * all cores) at 100+ GFLOP/s. When it loads, we re-register the wasm backend's matmul and
 * convolution kernels, and the per-channel work around them (kernels/native/), to compute directly
 * on the wasm heap: tensor data never leaves the WebAssembly memory, so nothing is copied. Cases a
 * native kernel does not handle go to the kernel registered before it. `INTRODL_NATIVE=0` turns
 * this off; without the addon nothing changes.
 */

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Which CPU matmul the wasm backend uses, and why. */
export interface NativeKernelStatus {
  /** True when the native kernels are registered. */
  active: boolean;
  /** One line, e.g. `OpenBLAS (native, 2 threads, Zen)` or `wasm (native addon not built: …)`. */
  matmul: string;
}

export { NATIVE_KERNELS, type NativeAddon } from '../kernels/native/index.js';

let status: NativeKernelStatus | undefined;
let loaded: NativeAddon | undefined;

/**
 * The loaded `@introdl/native` addon when the native kernels are active (after `useBackend('wasm')`),
 * else undefined: for kernels registered outside core, e.g. Lab 3's 16-bit-weight matmul.
 */
export function nativeAddon(): NativeAddon | undefined {
  return status?.active ? loaded : undefined;
}

/** What {@link registerNativeKernels} decided, or undefined before it ran. */
export function nativeKernelStatus(): NativeKernelStatus | undefined {
  return status;
}

/**
 * Loads `@introdl/native` and, when it loads, registers the native kernels on the wasm backend (once;
 * import `@tensorflow/tfjs-backend-wasm` and register other wasm kernel overrides first, since ours
 * call through to them). Never throws: without the addon it reports why and leaves wasm as it is.
 */
export async function registerNativeKernels(): Promise<NativeKernelStatus> {
  if (status) return status;
  if (process.env.INTRODL_NATIVE === '0') {
    status = { active: false, matmul: 'wasm (native kernels off: INTRODL_NATIVE=0)' };
    return status;
  }
  let addon: NativeAddon;
  try {
    // A variable specifier keeps tsc and bundlers from requiring the optional package to exist.
    const spec = '@introdl/native';
    const mod = (await import(spec)) as { loadNative(): NativeAddon };
    addon = mod.loadNative();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? 'optional @introdl/native is not installed'
        : (err as Error).message.split('\n')[0];
    status = { active: false, matmul: `wasm (native addon not built: ${why})` };
    return status;
  }
  for (const [kernelName, wrap] of nativeKernelWraps(addon)) override(kernelName, wrap);
  loaded = addon;
  const blas = addon.info();
  const version = /OpenBLAS [\d.]+/.exec(blas.config)?.[0] ?? 'OpenBLAS';
  status = { active: true, matmul: `${version} (native, ${blas.threads} threads, ${blas.core})` };
  return status;
}

/** Registers `wrap(previous)` for `kernelName` on wasm; `previous` throws when wasm had no such kernel. */
function override(kernelName: string, wrap: KernelWrap): void {
  const config = tf.getKernel(kernelName, 'wasm');
  const previous: KernelFunc =
    config?.kernelFunc ??
    (() => {
      throw new Error(`${kernelName} is not supported on the wasm backend for these arguments`);
    });
  if (config) tf.unregisterKernel(kernelName, 'wasm');
  // Keeping setupFunc lets the previous kernel (set up when the backend started) keep working.
  tf.registerKernel({ ...config, kernelName, backendName: 'wasm', kernelFunc: wrap(previous) });
}
