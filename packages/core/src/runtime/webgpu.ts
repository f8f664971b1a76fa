import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * WebGPU in Node comes from the `webgpu` npm package (Dawn). On a machine with a GPU it runs over
 * Vulkan, which needs the Vulkan loader and a driver; Dawn says so on stderr rather than throwing,
 * so we look for the loader ourselves to give a precise reason. Without a GPU, Dawn's OpenGL ES
 * backend on Mesa's llvmpipe runs the same WGSL on the CPU (slowly): that is the "software adapter"
 * CI tests the WebGPU kernels on. It needs `EGL_PLATFORM=surfaceless` (no display) and WebGPU's
 * compatibility feature level.
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

/** What {@link installNodeWebGPU} found. */
export interface WebGPUAdapterFound {
  /** The adapter in words, e.g. `nvidia hopper NVIDIA H200` or `llvmpipe … (OpenGL ES 3.2 Mesa …)`. */
  description: string;
  /** True for a CPU rasteriser (llvmpipe, lavapipe, SwiftShader): correct but slow. */
  software: boolean;
  adapter: GPUAdapter;
}

let found: WebGPUAdapterFound | undefined;

/** The adapter found by {@link installNodeWebGPU}, once it has run. */
export function webgpuAdapter(): WebGPUAdapterFound | undefined {
  return found;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|software/i;

function describe(adapter: GPUAdapter): { description: string; software: boolean } {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  const parts = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean) : [];
  const description = parts.length ? parts.join(' ') : 'adapter';
  const fallback = Boolean((info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter);
  return { description, software: fallback || SOFTWARE.test(description) };
}

type WebGPUModule = typeof import('webgpu');

/** A GPU adapter through Vulkan (or through the toggles in INTRODL_WEBGPU_FLAGS), or the reason there is none. */
async function hardwareAdapter(mod: WebGPUModule): Promise<{ gpu: GPU; adapter: GPUAdapter } | string> {
  const flags = dawnFlags();
  const usingGL = flags.some((f) => f.includes('opengles'));
  if (!usingGL && process.platform === 'linux' && !hasVulkanLoader()) {
    return 'no Vulkan loader (libvulkan.so.1 not found; install libvulkan1 and a GPU driver)';
  }
  const gpu = mod.create(flags);
  const adapter = await gpu.requestAdapter(
    (usingGL ? { featureLevel: 'compatibility' } : { powerPreference: 'high-performance' }) as GPURequestAdapterOptions,
  );
  return adapter ? { gpu, adapter } : 'no WebGPU adapter (Vulkan found no usable GPU)';
}

/** Mesa's llvmpipe through Dawn's OpenGL ES backend (EGL without a display), or the reason it fails. */
async function softwareAdapter(mod: WebGPUModule): Promise<{ gpu: GPU; adapter: GPUAdapter } | string> {
  // EGL reads this when Dawn opens its display; without it EGL looks for X11 or Wayland.
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const gpu = mod.create(['backend=opengles']);
  const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions);
  return adapter
    ? { gpu, adapter }
    : 'no OpenGL ES software adapter either (install libegl1, libegl-mesa0, libgles2 and libgl1-mesa-dri)';
}

let candidate: { gpu: GPU; adapter: GPUAdapter; mod: WebGPUModule } | undefined;

/**
 * Finds a WebGPU adapter without installing anything globally: a GPU through Vulkan first, else
 * Mesa's llvmpipe through OpenGL ES (a software adapter; `INTRODL_WEBGPU=hardware` refuses it,
 * `INTRODL_WEBGPU=software` goes straight to it). Returns its description and whether it is a
 * software one; throws an Error whose message is the reason when there is neither. `want`
 * (default `INTRODL_WEBGPU`, else `any`) is `hardware`, `software` or `any`.
 */
export async function findWebGPUAdapter(
  want = process.env.INTRODL_WEBGPU ?? 'any',
): Promise<{ description: string; software: boolean }> {
  if (!candidate) {
    let mod: WebGPUModule;
    try {
      mod = await import('webgpu');
    } catch (err) {
      throw new Error(`the webgpu package does not load here (${(err as Error).message.split('\n')[0]})`);
    }
    const hard = want === 'software' ? 'INTRODL_WEBGPU=software' : await hardwareAdapter(mod);
    let pick = hard;
    if (typeof hard === 'string' && want !== 'hardware') {
      const soft = await softwareAdapter(mod);
      pick = typeof soft === 'string' ? `${hard}; ${soft}` : soft;
    }
    if (typeof pick === 'string') throw new Error(pick);
    candidate = { ...pick, mod };
  }
  return describe(candidate.adapter);
}

/**
 * Finds an adapter ({@link findWebGPUAdapter}) and creates `navigator.gpu` and the WebGPU globals
 * tfjs-backend-webgpu needs. Only when WebGPU is going to be used: other libraries take a global
 * `navigator.gpu` as a sign that they may use WebGPU too.
 */
export async function installNodeWebGPU(): Promise<WebGPUAdapterFound> {
  if (found) return found;
  const { description, software } = await findWebGPUAdapter();
  const pick = candidate as NonNullable<typeof candidate>;
  Object.assign(globalThis, pick.mod.globals);
  // tfjs-backend-webgpu reads navigator.gpu when it is imported and when it initialises.
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu: pick.gpu, userAgent: 'Node.js' },
    configurable: true,
    writable: true,
  });
  found = { description, software, adapter: pick.adapter };
  return found;
}

/**
 * The device descriptor for the adapter found: the adapter's own limits for what tfjs and our fused
 * kernels need (compatibility mode's defaults are lower than what the adapter offers, e.g. 4 storage
 * buffers per shader stage).
 */
export function deviceDescriptor(adapter: GPUAdapter): GPUDeviceDescriptor {
  const names = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
    'maxStorageBuffersPerShaderStage',
  ] as const;
  const requiredLimits: Record<string, number> = {};
  for (const name of names) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures = adapter.features.has('timestamp-query') ? (['timestamp-query'] as GPUFeatureName[]) : [];
  return { requiredLimits, requiredFeatures };
}
