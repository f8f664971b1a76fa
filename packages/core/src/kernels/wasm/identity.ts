import type * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from './backend.js';

/**
 * `Identity` for the wasm backend that shares its input's data (one more reference) instead of
 * copying it, as the cpu, webgl and webgpu backends do; tfjs tensors are immutable, so sharing is
 * safe. This matters because tfjs clones every tensor an op keeps for its gradient: with the stock
 * copying kernel, each time step of an LSTM under a gradient tape copied the 16 MB recurrent
 * kernel, and Lab 1's plain LSTM ran the wasm heap out of its 4 GB.
 */
export const sharedIdentity: KernelFunc = ({ inputs, backend }) => {
  const x = inputs.x as tf.TensorInfo;
  (backend as unknown as { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};
