export * from '../fs/atomic.js';
export * from './checkpoint.js';
export * from './safetensors.js';
