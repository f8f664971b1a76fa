import * as tf from '@tensorflow/tfjs';
import type { KernelFunc } from '../kernels/wasm/backend.js';
import { conv2dBackpropFilter } from '../kernels/wasm/conv2d-backprop-filter.js';
import { fastConv2dBackpropInput } from '../kernels/wasm/conv2d-backprop-input.js';
import { fastGatherV2 } from '../kernels/wasm/gather.js';
import { sharedIdentity } from '../kernels/wasm/identity.js';
import { fastSlice, fastSplitV, fastUnpack } from '../kernels/wasm/slice.js';
import { fastTransposedMatMul } from '../kernels/wasm/transposed-matmul.js';
import { unsortedSegmentSum } from '../kernels/wasm/unsorted-segment-sum.js';

/**
 * Kernel fixes for the wasm backend (see the engine notes), each composed of fast wasm kernels and
 * checked against the cpu backend in wasm-kernels.test.ts:
 * - `BatchMatMul` with a transposed operand: transpose explicitly, then the plain (fast) matmul;
 * - `UnsortedSegmentSum` (the gradient of `gather`, so of Embedding): missing on wasm;
 * - `Conv2DBackpropFilter` (the filter gradient of a convolution): missing on wasm;
 * - `Conv2DBackpropInput`: stock wasm is a naive loop, 10× slower than its forward convolution;
 * - `Slice`, `SplitV`, `Unpack`: stock wasm copies the whole input out of the heap for every slice
 *   (so unstacking T steps copies T times the tensor); ours copy only the block;
 * - `GatherV2`: 50× slower than a slice for one row; ours copies the rows on the heap;
 * - `Identity` (tf.clone, and every tensor kept for a gradient): stock wasm copies the data; ours
 *   shares it, as the other backends do.
 */

let registered = false;

/** Re-registers `kernelName` on wasm with `wrap(original)`. */
function override(kernelName: string, wrap: (original: KernelFunc) => KernelFunc): void {
  const config = tf.getKernel(kernelName, 'wasm');
  if (!config) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: wrap(config.kernelFunc) });
}

/** Registers `kernelFunc` on wasm under `kernelName` unless wasm already has that kernel. */
function addMissing(kernelName: string, kernelFunc: KernelFunc): void {
  if (tf.getKernel(kernelName, 'wasm')) return;
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

/** Whether the fixes are on: `INTRODL_WASM_FIXES=0` turns them off, to compare with stock tfjs. */
export function wasmKernelFixesEnabled(): boolean {
  return process.env.INTRODL_WASM_FIXES !== '0';
}

/**
 * Registers the wasm kernel fixes once (the wasm backend's package must be imported first, so that
 * its own kernels are registered). Set `INTRODL_WASM_FIXES=0` to compare against the stock kernels.
 */
export function registerWasmKernelFixes(): void {
  if (registered || !wasmKernelFixesEnabled()) return;
  registered = true;
  override('BatchMatMul', fastTransposedMatMul);
  override('Slice', fastSlice);
  override('SplitV', fastSplitV);
  override('Unpack', fastUnpack);
  override('GatherV2', fastGatherV2);
  override('Identity', () => sharedIdentity);
  addMissing('UnsortedSegmentSum', unsortedSegmentSum);
  addMissing('Conv2DBackpropFilter', conv2dBackpropFilter);
  override('Conv2DBackpropInput', fastConv2dBackpropInput);
}
