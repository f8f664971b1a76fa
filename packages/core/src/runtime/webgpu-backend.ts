import * as tf from '@tensorflow/tfjs';
import { registerBatchNormGradient } from '../kernels/webgpu/batchnorm-grad.js';
import { registerLayerFusions } from '../kernels/webgpu/layer-fusions.js';
import { deviceDescriptor, installNodeWebGPU, type WebGPUAdapterFound } from './webgpu.js';
import { applyWebGPUFlags } from './webgpu-flags.js';

let registered: WebGPUAdapterFound | undefined;

/**
 * Finds a WebGPU adapter (a GPU, else Mesa's llvmpipe), then registers tfjs' `webgpu` backend on a
 * device we request ourselves: tfjs' own factory asks for an adapter without the compatibility
 * feature level (so it finds none on OpenGL ES) and for fewer storage buffers per shader than our
 * fused kernels bind. Sets tfjs' webgpu flags ({@link applyWebGPUFlags}) and routes
 * FusedBatchNorm's gradient and tf.layers' Conv2D, Dense and BatchNormalization (while training)
 * through fused kernels on webgpu. Idempotent.
 */
export async function registerWebGPUBackend(): Promise<WebGPUAdapterFound> {
  if (registered) return registered;
  const found = await installNodeWebGPU();
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  // Importing the package registered its own factory (it saw navigator.gpu); replace it with ours.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const device = await found.adapter.requestDevice(deviceDescriptor(found.adapter));
      const info = (found.adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
      return new WebGPUBackend(device, info);
    },
    3,
  );
  applyWebGPUFlags();
  registerBatchNormGradient();
  registerLayerFusions();
  registered = found;
  return found;
}
