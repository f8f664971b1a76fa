import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../runtime/backends.js';
import { webgpuAdapter } from '../../runtime/webgpu.js';

/**
 * The WebGPU kernel tests run wherever WebGPU works: in CI on Mesa llvmpipe through Dawn's OpenGL ES
 * backend (Debian's libegl1, libegl-mesa0, libgles2, libgl1-mesa-dri). `INTRODL_WEBGPU_TESTS=0`
 * skips them on a machine without those packages; CI never sets it, so there they must pass.
 */
export function webgpuTestsEnabled(): boolean {
  return process.env.INTRODL_WEBGPU_TESTS !== '0';
}

/** Activates the webgpu backend (with the wasm backend registered too, for the CPU references). */
export async function useWebGPUForTests(): Promise<void> {
  await useBackend('webgpu');
  if (!webgpuAdapter()) throw new Error('no WebGPU adapter');
  await tf.setBackend('webgpu');
}
