import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BackendUnavailableError, BadFileError, MissingFileError } from '../errors.js';
import { OnnxGraph } from './graph.js';

/**
 * ONNX Runtime for Node (onnxruntime-node): loaded on first use, so importing core never pays for
 * its native library. Its CPU binaries ship in the npm tarball; the install script (which would
 * download CUDA binaries) is not run.
 */

type Ort = typeof import('onnxruntime-node');
/** An ONNX Runtime inference session. */
export type OnnxSession = import('onnxruntime-node').InferenceSession;
/** An ONNX Runtime tensor. */
export type OnnxTensor = import('onnxruntime-node').Tensor;

let ort: Ort | undefined;

/** The onnxruntime-node module, loaded once. */
export async function loadOnnxRuntime(): Promise<Ort> {
  if (!ort) {
    try {
      ort = (await import('onnxruntime-node')) as Ort;
    } catch (err) {
      throw new BackendUnavailableError(
        `onnxruntime-node could not be loaded (${(err as Error).message}); reinstall with \`npm ci\``,
      );
    }
  }
  return ort;
}

/** Execution providers to ask for: `INTRODL_ONNX_PROVIDERS` (comma-separated, e.g. `webgpu,cpu`), else the CPU. */
export function onnxProviders(): string[] {
  const env = process.env.INTRODL_ONNX_PROVIDERS;
  const list = env
    ? env
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  if (!list.includes('cpu')) list.push('cpu');
  return list;
}

/** Options of {@link createOnnxSession}. */
export interface OnnxSessionOptions {
  /** Execution providers in order of preference (default {@link onnxProviders}). */
  providers?: string[];
  /** Threads for one operator (default: ONNX Runtime's choice, the physical cores). */
  threads?: number;
}

/**
 * Opens an `.onnx` file for inference.
 * @throws MissingFileError when the file is absent; BadFileError when ONNX Runtime cannot load it.
 */
export async function createOnnxSession(file: string, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
  if (!existsSync(file)) throw new MissingFileError(file, 'export the model first (introdl labN export --format onnx)');
  const rt = await loadOnnxRuntime();
  try {
    return await rt.InferenceSession.create(file, {
      executionProviders: options.providers ?? onnxProviders(),
      graphOptimizationLevel: 'all',
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
      // ONNX Runtime's worker threads spin while waiting for work by default; on a shared or busy CPU
      // (a laptop running the browser, CI, other jobs) they fight the rest for the cores: measured
      // here at load 24, two spinning threads scored the detector's windows in 1.69 s, two that sleep
      // in 0.91 s. INTRODL_ONNX_SPIN=1 turns spinning back on.
      extra: { session: { intra_op: { allow_spinning: process.env.INTRODL_ONNX_SPIN === '1' ? '1' : '0' } } },
    });
  } catch (err) {
    throw new BadFileError(file, `ONNX Runtime cannot load it: ${(err as Error).message}`);
  }
}

/** A float32 tensor for ONNX Runtime. */
export async function floatTensor(data: Float32Array, dims: number[]): Promise<OnnxTensor> {
  return new (await loadOnnxRuntime()).Tensor('float32', data, dims);
}

/** An int64 tensor for ONNX Runtime from plain integers. */
export async function int64Tensor(values: ArrayLike<number>, dims: number[]): Promise<OnnxTensor> {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]);
  return new (await loadOnnxRuntime()).Tensor('int64', data, dims);
}

/** What `introdl doctor` says about ONNX Runtime. */
export interface OnnxRuntimeStatus {
  version?: string;
  /** Each execution provider onnxruntime-node knows, whether its binary ships, and whether a tiny model ran on it. */
  providers: { name: string; bundled: boolean; works?: boolean; detail?: string }[];
  error?: string;
}

/** A one-node model (y = x + 1) to try each execution provider on. */
function probeModel(): Uint8Array {
  const g = new OnnxGraph('probe');
  const x = g.input('x', 'float32', [2]);
  g.output(g.op('Add', [x, g.floats([1], [])]), 'float32', [2], 'y');
  return g.encode().model;
}

/** Lists onnxruntime-node's execution providers and runs a tiny model on each bundled one. */
export async function onnxRuntimeStatus(): Promise<OnnxRuntimeStatus> {
  let rt: Ort;
  try {
    rt = await loadOnnxRuntime();
  } catch (err) {
    return { providers: [], error: (err as Error).message };
  }
  let version: string | undefined;
  try {
    version = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    version = rt.env.versions?.node;
  }
  const model = probeModel();
  const providers: OnnxRuntimeStatus['providers'] = [];
  for (const b of rt.listSupportedBackends()) {
    const entry: OnnxRuntimeStatus['providers'][number] = { name: b.name, bundled: b.bundled };
    if (b.bundled) {
      try {
        const s = await rt.InferenceSession.create(model, { executionProviders: [b.name] });
        const out = await s.run({ x: new rt.Tensor('float32', Float32Array.of(1, 2), [2]) });
        const y = out.y.data as Float32Array;
        entry.works = y[0] === 2 && y[1] === 3;
        await s.release();
      } catch (err) {
        entry.works = false;
        // ONNX Runtime's messages start with a source location and an assertion; keep the reason.
        const first = (err as Error).message.split('\n')[0];
        entry.detail = first.includes(' was false. ') ? first.slice(first.lastIndexOf(' was false. ') + 12) : first;
      }
    } else {
      entry.detail = 'not in the npm package (needs its install script and a download)';
    }
    providers.push(entry);
  }
  return { version, providers };
}
