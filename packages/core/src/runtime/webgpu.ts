import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * WebGPU in Node comes from the `webgpu` npm package (Dawn). It needs a Vulkan loader and a GPU
 * adapter; neither exists on a CPU-only machine, and Dawn says so on stderr rather than throwing,
 * so we look for the loader ourselves to give a precise reason.
 */

/** Options for the Dawn instance. `INTRODL_WEBGPU_FLAGS` (comma separated) adds Dawn toggles. */
export function dawnFlags(): string[] {
  const extra = process.env.INTRODL_WEBGPU_FLAGS;
  return extra ? extra.split(',').filter(Boolean) : [];
}

/** True when a Vulkan loader library can be found in the usual places or on LD_LIBRARY_PATH. */
export function hasVulkanLoader(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/usr/local/lib',
  ];
  return dirs.some((dir) => existsSync(path.join(dir, 'libvulkan.so.1')));
}

/** The WebGPU adapter request options: compatibility mode when running on OpenGL ES (CI's llvmpipe). */
export function adapterOptions(): GPURequestAdapterOptions {
  const opengles = dawnFlags().some((f) => f.includes('opengles'));
  return (
    opengles ? { featureLevel: 'compatibility' } : { powerPreference: 'high-performance' }
  ) as GPURequestAdapterOptions;
}

/**
 * Creates `navigator.gpu` from the `webgpu` package and asks for an adapter.
 * Returns the adapter's description, or throws an Error whose message is the reason it cannot.
 */
export async function installNodeWebGPU(): Promise<string> {
  const usingGL = dawnFlags().some((f) => f.includes('opengles'));
  if (!usingGL && process.platform === 'linux' && !hasVulkanLoader()) {
    throw new Error('no Vulkan loader (libvulkan.so.1 not found; install libvulkan1 and a GPU driver)');
  }
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (err) {
    throw new Error(`the webgpu package does not load here (${(err as Error).message.split('\n')[0]})`);
  }
  const g = globalThis as Record<string, unknown>;
  const existing = (g.navigator as { gpu?: GPU } | undefined)?.gpu;
  const gpu = existing ?? mod.create(dawnFlags());
  const adapter = await gpu.requestAdapter(adapterOptions());
  if (!adapter) throw new Error('no WebGPU adapter (Vulkan found no usable GPU)');
  if (!existing) {
    Object.assign(globalThis, mod.globals);
    // tfjs-backend-webgpu reads navigator.gpu when it is imported and when it initialises.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  return info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') : 'adapter';
}
