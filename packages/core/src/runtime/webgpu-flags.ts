import * as tf from '@tensorflow/tfjs';
import { BadFlagError } from '../errors.js';

/**
 * tfjs-backend-webgpu's flags as introdl sets them, each switchable by an environment variable.
 *
 * - `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE` (tfjs: 15; `INTRODL_WEBGPU_SUBMIT_BATCH`, default 32): tfjs
 *   ends its compute pass and submits the command encoder after this many commands. Every submit
 *   costs a queue submission (and on Vulkan a fence) on the host. After fusion a training step is
 *   50–200 dispatches, and our fused loops count as one command, so 32 gives a few submits per step
 *   while the GPU still starts on the first commands as the host records the rest.
 * - `WEBGPU_MATMUL_PROGRAM_TYPE` (`INTRODL_WEBGPU_MATMUL`: `auto`, the default, or `reduce`,
 *   `splitk`, `small`, `packed`): which matmul program tfjs runs. `auto` is tfjs' own choice: the
 *   packed, tiled program (32×32 tiles, vec4 loads when shapes allow) for large products, the
 *   split-K / small-output programs for products with few output tiles. Forcing `packed` everywhere
 *   would leave a GPU idle on the LSTM's and the transformer's thin products, so it stays a switch.
 * - `WEBGPU_CPU_FORWARD` stays on (tfjs' default): an op whose inputs are all small and still on the
 *   CPU (constants) runs there, saving an upload.
 */
const MATMUL_TYPES: Record<string, number> = { auto: -1, reduce: 0, splitk: 1, small: 2, packed: 3 };

/** The flag values introdl sets, as applied. */
export interface WebGPUFlags {
  WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: number;
  WEBGPU_MATMUL_PROGRAM_TYPE: number;
}

/** Sets the flags above (call after tfjs-backend-webgpu is imported: it registers them). */
export function applyWebGPUFlags(env: NodeJS.ProcessEnv = process.env): WebGPUFlags {
  const batch = Number(env.INTRODL_WEBGPU_SUBMIT_BATCH ?? 32);
  const matmul = (env.INTRODL_WEBGPU_MATMUL ?? 'auto').toLowerCase();
  if (!Number.isInteger(batch) || batch < 1) {
    throw new BadFlagError(
      `INTRODL_WEBGPU_SUBMIT_BATCH must be a whole number ≥ 1 (got ${env.INTRODL_WEBGPU_SUBMIT_BATCH})`,
    );
  }
  if (!(matmul in MATMUL_TYPES)) {
    throw new BadFlagError(
      `INTRODL_WEBGPU_MATMUL must be one of ${Object.keys(MATMUL_TYPES).join(', ')} (got ${matmul})`,
    );
  }
  const flags: WebGPUFlags = {
    WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: batch,
    WEBGPU_MATMUL_PROGRAM_TYPE: MATMUL_TYPES[matmul],
  };
  for (const [name, value] of Object.entries(flags)) tf.env().set(name, value);
  return flags;
}
