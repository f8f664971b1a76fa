/**
 * Counts the GPU work a piece of code causes, for benchmarks and tests: a hardware-free measure of
 * how much per-op overhead a training step carries. It patches the prototypes of the `webgpu`
 * package's classes (GPUComputePassEncoder, GPUQueue, GPUBuffer, GPUDevice), so it sees every
 * dispatch whoever issues it (tfjs' kernels or our fused ones).
 */

/** What was counted since the last reset. */
export interface GpuCounts {
  /** `dispatchWorkgroups` calls: one kernel launch each. */
  dispatches: number;
  /** Compute passes begun (tfjs puts up to 15 dispatches in one pass). */
  computePasses: number;
  /** Queue submissions. */
  submits: number;
  /** Data written to the GPU: `writeBuffer` to non-uniform buffers, plus buffers created mapped. */
  uploads: number;
  /** `writeBuffer` to uniform buffers (each kernel's small parameter block). */
  uniformWrites: number;
  /** Buffers mapped for reading: each one a readback that waits for the GPU. */
  readbacks: number;
}

/** Dispatches by pipeline label (tfjs labels its programs by class name, ours start `introdl-`). */
export type GpuBreakdown = Record<string, number>;

const counts: GpuCounts = { dispatches: 0, computePasses: 0, submits: 0, uploads: 0, uniformWrites: 0, readbacks: 0 };
let installed = false;
const byPipeline = new Map<string, number>();
// The pipeline each pass encoder has set, to name its dispatches.
const current = new WeakMap<object, string>();

type Proto = Record<string, (...args: unknown[]) => unknown>;

function wrap(cls: unknown, method: string, before: (self: unknown, args: unknown[]) => void): void {
  const proto = (cls as { prototype?: Proto } | undefined)?.prototype;
  const original = proto?.[method];
  if (!proto || typeof original !== 'function') return;
  proto[method] = function (this: unknown, ...args: unknown[]) {
    before(this, args);
    return original.apply(this, args);
  };
}

/**
 * Starts counting (once per process; the WebGPU globals must be installed, i.e. the webgpu backend
 * prepared). Returns false when there is no WebGPU here.
 */
export function installGpuCounters(): boolean {
  if (installed) return true;
  const g = globalThis as Record<string, unknown>;
  if (!g.GPUComputePassEncoder) return false;
  installed = true;
  const usage = g.GPUBufferUsage as { UNIFORM: number };
  const mapRead = (g.GPUMapMode as { READ: number }).READ;
  wrap(g.GPUComputePassEncoder, 'setPipeline', (self, args) => {
    current.set(self as object, (args[0] as { label?: string }).label || 'unlabelled');
  });
  wrap(g.GPUComputePassEncoder, 'dispatchWorkgroups', (self) => {
    counts.dispatches++;
    const label = current.get(self as object) ?? 'unlabelled';
    byPipeline.set(label, (byPipeline.get(label) ?? 0) + 1);
  });
  wrap(g.GPUCommandEncoder, 'beginComputePass', () => counts.computePasses++);
  wrap(g.GPUQueue, 'submit', () => counts.submits++);
  wrap(g.GPUQueue, 'writeBuffer', (_self, args) => {
    const target = args[0] as { usage: number };
    if (target.usage & usage.UNIFORM) counts.uniformWrites++;
    else counts.uploads++;
  });
  wrap(g.GPUDevice, 'createBuffer', (_self, args) => {
    if ((args[0] as GPUBufferDescriptor).mappedAtCreation) counts.uploads++;
  });
  wrap(g.GPUBuffer, 'mapAsync', (_self, args) => {
    if ((args[0] as number) & mapRead) counts.readbacks++;
  });
  return true;
}

/** A copy of the counts so far. */
export function gpuCounts(): GpuCounts {
  return { ...counts };
}

/** Dispatches since the last reset by pipeline label, most first. */
export function gpuBreakdown(): GpuBreakdown {
  return Object.fromEntries([...byPipeline.entries()].sort((a, b) => b[1] - a[1]));
}

/** Sets every count to zero. */
export function resetGpuCounts(): void {
  for (const key of Object.keys(counts) as (keyof GpuCounts)[]) counts[key] = 0;
  byPipeline.clear();
}

/** Runs `fn` and returns what it cost on the GPU (and its result). Waits for `fn` if it is async. */
export async function countGpuWork<T>(fn: () => T | Promise<T>): Promise<{ result: T; counts: GpuCounts }> {
  installGpuCounters();
  resetGpuCounts();
  const result = await fn();
  return { result, counts: gpuCounts() };
}
