import { channelKernels } from './channels.js';
import { convKernels } from './conv.js';
import { matMulKernels } from './matmul.js';
import type { KernelWrap, NativeAddon } from './types.js';

/**
 * Native kernels for the wasm backend over `@introdl/native` (OpenBLAS): each computes directly on
 * the wasm heap and passes the cases it does not handle to the kernel registered before it.
 * @packageDocumentation
 */

/** The kernels replaced when the addon loads, in the order they are registered. */
export const NATIVE_KERNELS = [
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'Tile',
  'Sum',
  'Mean',
  'FusedBatchNorm',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
] as const;

export type NativeKernelName = (typeof NATIVE_KERNELS)[number];

/** Every native kernel wrapper with its tfjs kernel name, in {@link NATIVE_KERNELS} order. */
export function nativeKernelWraps(addon: NativeAddon): [NativeKernelName, KernelWrap][] {
  const wraps: Record<string, KernelWrap> = {
    ...matMulKernels(addon),
    ...convKernels(addon),
    ...channelKernels(addon),
  };
  return NATIVE_KERNELS.map((name) => [name, wraps[name]]);
}

export type { KernelWrap, NativeAddon } from './types.js';
