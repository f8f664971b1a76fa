/**
 * Fused kernels used by ordinary layer code (the LSTM layer uses them unless `INTRODL_FUSED=0`; on
 * webgpu they are WGSL kernels unless `INTRODL_WEBGPU_FUSED=0`), transformer blocks (RMSNorm,
 * SwiGLU) that fuse on webgpu, and the wasm backend's added kernels (registered by `useBackend('wasm')`).
 * @packageDocumentation
 */
export * from './lstm/index.js';
export {
  cachedAttention,
  causalAttention,
  kvCacheWritable,
  type LoraGroupOptions,
  type LoraProjection,
  loraLinear,
  loraLinearGroup,
  rmsNorm,
  swiglu,
  writeKVCache,
} from './transformer.js';
export { fusedWebGPUActive } from './webgpu/runner.js';
