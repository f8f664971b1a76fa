/**
 * Fused kernels used by ordinary layer code (the LSTM layer uses them unless `INTRODL_FUSED=0`), and
 * the wasm backend's added kernels (registered by `useBackend('wasm')`).
 * @packageDocumentation
 */
export * from './lstm/index.js';
