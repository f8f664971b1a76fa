/**
 * @introdl/core: tensors and backends, the lecture's foundations, one Trainer, checkpoints, data
 * and plots, shared by every lab.
 * @packageDocumentation
 */
export * as tf from '@tensorflow/tfjs';
export * from './checkpoint/index.js';
export * from './commands/contract.js';
export * from './data/index.js';
export * from './errors.js';
export * from './foundations/index.js';
export * from './kernels/index.js';
export * from './onnx/index.js';
export * from './plot/index.js';
export * from './rng.js';
export * from './run/index.js';
export * from './runtime/index.js';
export * from './train/index.js';
