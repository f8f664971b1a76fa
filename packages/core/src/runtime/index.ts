/**
 * Backends: pick and activate the tfjs backend a run uses (`--backend auto|webgpu|node|wasm|cpu`).
 * @packageDocumentation
 */
export * from './backend-names.js';
export {
  activeBackend,
  type BackendSelection,
  describeSelection,
  probeAllBackends,
  probeBackend,
  useBackend,
  useBackendForSampling,
} from './backends.js';
export {
  countGpuWork,
  type GpuBreakdown,
  type GpuCounts,
  gpuBreakdown,
  gpuCounts,
  installGpuCounters,
  resetGpuCounts,
} from './gpu-counters.js';
export { type NativeAddon, nativeAddon, nativeKernelStatus } from './native-kernels.js';
export { registerWasmKernelFixes } from './wasm-kernels.js';
export { hasVulkanLoader, installNodeWebGPU, type WebGPUAdapterFound, webgpuAdapter } from './webgpu.js';
export { registerWebGPUBackend } from './webgpu-backend.js';
export { applyWebGPUFlags, type WebGPUFlags } from './webgpu-flags.js';
