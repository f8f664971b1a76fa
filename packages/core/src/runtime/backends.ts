import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, BadFlagError } from '../errors.js';
import {
  BACKENDS,
  type BackendChoice,
  type BackendName,
  type BackendStatus,
  isBackendChoice,
} from './backend-names.js';
import { registerGradientFixes } from './gradient-fixes.js';
import { registerNativeKernels } from './native-kernels.js';
import { registerWasmKernelFixes } from './wasm-kernels.js';
import { findWebGPUAdapter } from './webgpu.js';
import { registerWebGPUBackend } from './webgpu-backend.js';

const require = createRequire(import.meta.url);

/** tfjs registers backends under its own names; `node` is tfjs-node's `tensorflow`. */
const TFJS_NAME: Record<BackendName, string> = { webgpu: 'webgpu', node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

/** What preparing a backend found: a line for logs, and whether it is a software adapter. */
interface Prepared {
  detail: string;
  software?: boolean;
}

/** Loads and registers one backend's package. Throws an Error whose message says why it cannot. */
async function prepare(name: BackendName): Promise<Prepared> {
  switch (name) {
    case 'webgpu': {
      const found = await registerWebGPUBackend();
      return found.software
        ? { detail: `software adapter: ${found.description} (correct but slow; auto skips it)`, software: true }
        : { detail: `WebGPU on ${found.description}` };
    }
    case 'node': {
      try {
        // A variable specifier keeps bundlers and tsc from requiring the optional package to exist.
        const pkg = '@tensorflow/tfjs-node';
        await import(pkg);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
          throw new Error('not installed (optional @tensorflow/tfjs-node; its install downloads libtensorflow)');
        }
        throw new Error(`installed but does not load (${(err as Error).message.split('\n')[0]})`);
      }
      return { detail: 'libtensorflow through @tensorflow/tfjs-node' };
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      wasm.setWasmPaths(`${dist}${path.sep}`);
      registerWasmKernelFixes();
      // After the fixes: the native kernels call through to them for the cases they leave alone.
      const native = await registerNativeKernels();
      return {
        detail: `WebAssembly, SIMD on, 1 thread (wasm threads cannot start in Node), matmul: ${native.matmul}`,
      };
    }
    case 'cpu':
      return { detail: 'plain JavaScript kernels (slow; for exactness tests)' };
  }
}

/** Makes `name` the active tfjs backend and checks it computes 1+2 correctly. */
async function activate(name: BackendName): Promise<Prepared> {
  registerGradientFixes();
  const prepared = await prepare(name);
  const warn = console.warn;
  // tfjs-backend-cpu advertises tfjs-node in a banner on first use in Node; doctor says it better.
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes('tfjs-node')) warn(...args);
  };
  let sum = Number.NaN;
  try {
    const ok = await tf.setBackend(TFJS_NAME[name]);
    if (!ok) throw new Error('failed to initialise');
    await tf.ready();
    // The first tensor written is when the cpu backend prints its banner, so do it here.
    sum = (await tf.add(tf.scalar(1), tf.scalar(2)).data())[0];
  } catch (err) {
    throw new Error(`failed to initialise (${(err as Error).message.split('\n')[0]})`);
  } finally {
    console.warn = warn;
  }
  if (sum !== 3) throw new Error(`computes 1+2=${sum}`);
  return prepared;
}

/** Tries one backend and reports whether it works, leaving it active when it does. */
export async function probeBackend(name: BackendName): Promise<BackendStatus> {
  try {
    const { detail, software } = await activate(name);
    return software ? { name, works: true, detail, software } : { name, works: true, detail };
  } catch (err) {
    return { name, works: false, detail: (err as Error).message };
  }
}

/**
 * Probes every backend (for `introdl doctor`). Leaves the one `auto` would pick active.
 * `probeWebGPU`, when given and it answers, replaces the in-process WebGPU probe (doctor runs it
 * in a child process to keep Dawn's stderr warnings out of the report); when WebGPU is then the
 * backend `auto` would pick (a GPU), it is activated here as well.
 */
export async function probeAllBackends(
  options: { probeWebGPU?: () => Promise<BackendStatus | undefined> } = {},
): Promise<BackendStatus[]> {
  const statuses: BackendStatus[] = [];
  let probedElsewhere = false;
  for (const name of BACKENDS) {
    const outside = name === 'webgpu' ? await options.probeWebGPU?.() : undefined;
    if (outside) probedElsewhere = true;
    statuses.push(outside ?? (await probeBackend(name)));
  }
  const best = statuses.find((s) => s.works && !s.software);
  if (best && best.name === 'webgpu' && probedElsewhere) await probeBackend('webgpu');
  else if (best) await tf.setBackend(TFJS_NAME[best.name]);
  return statuses;
}

/** The backend a run uses, and why the faster ones were not used. */
export interface BackendSelection {
  name: BackendName;
  detail: string;
  skipped: BackendStatus[];
}

/**
 * Activates the backend asked for. `auto` picks the fastest that works (webgpu > node > wasm > cpu),
 * never a software WebGPU adapter (llvmpipe: right answers, CPU speed); `--backend webgpu` uses one.
 * A named backend that cannot run here is an error rather than a silent fallback.
 */
export async function useBackend(choice: string): Promise<BackendSelection> {
  if (!isBackendChoice(choice)) {
    throw new BadFlagError(`unknown backend "${choice}": use one of auto, ${BACKENDS.join(', ')}`);
  }
  if (choice !== 'auto') {
    const status = await probeBackend(choice);
    if (!status.works) {
      throw new BackendUnavailableError(
        `backend "${choice}" is not available here: ${status.detail}. Run \`introdl doctor\` to see which backends work, or use --backend auto.`,
      );
    }
    return { name: choice, detail: status.detail, skipped: [] };
  }
  const skipped: BackendStatus[] = [];
  for (const name of BACKENDS) {
    if (name === 'webgpu') {
      // Without a GPU, skip WebGPU before anything is installed or initialised for it.
      const none = await noHardwareWebGPU();
      if (none) {
        skipped.push(none);
        continue;
      }
    }
    const status = await probeBackend(name);
    if (status.works && !status.software) return { name, detail: status.detail, skipped };
    skipped.push(status);
  }
  // Unreachable in practice: the cpu backend always works.
  throw new BackendUnavailableError('no backend works here; run `introdl doctor`');
}

/**
 * For `auto`: why WebGPU is skipped when there is no GPU adapter, else undefined. It never opens the
 * software adapter (Mesa's OpenGL ES prints warnings on every start, and would not be picked anyway).
 */
async function noHardwareWebGPU(): Promise<BackendStatus | undefined> {
  const want = process.env.INTRODL_WEBGPU ?? 'hardware';
  try {
    const { software, description } = await findWebGPUAdapter(want === 'any' ? 'hardware' : want);
    return software
      ? {
          name: 'webgpu',
          works: true,
          software,
          detail: `software adapter: ${description} (slow; use --backend webgpu)`,
        }
      : undefined;
  } catch (err) {
    return {
      name: 'webgpu',
      works: false,
      detail: `${(err as Error).message} (--backend webgpu can use a software adapter)`,
    };
  }
}

/** One line for logs: `backend wasm (…); skipped webgpu: …; node: …`. */
export function describeSelection(sel: BackendSelection): string {
  const skipped = sel.skipped.map((s) => `${s.name}: ${s.detail}`).join('; ');
  return `backend ${sel.name} (${sel.detail})${skipped ? `; skipped ${skipped}` : ''}`;
}

/**
 * Sampling one token at a time reads a value back after every step, synchronously (`dataSync`).
 * tfjs-webgpu cannot do that in Node (it needs OffscreenCanvas), so on webgpu this activates wasm
 * and returns a note saying so; on any other backend it does nothing and returns undefined. Load the
 * weights after calling it (tensors do not move between backends without a synchronous read).
 */
export async function useBackendForSampling(): Promise<string | undefined> {
  if (activeBackend() !== 'webgpu') return undefined;
  const sel = await useBackend('wasm');
  return `sampling on ${sel.name}: step-by-step sampling reads back every step, which webgpu cannot do synchronously in Node`;
}

/** The name introdl uses for the tfjs backend now active. */
export function activeBackend(): BackendName {
  const tfName = tf.getBackend();
  const entry = Object.entries(TFJS_NAME).find(([, v]) => v === tfName);
  return (entry?.[0] as BackendName | undefined) ?? 'cpu';
}

export type { BackendChoice, BackendName, BackendStatus };
