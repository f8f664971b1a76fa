import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Runs our own WGSL compute shaders inside tfjs' webgpu backend: the shader's storage bindings are
 * tfjs tensors' GPU buffers, the dispatch goes into the backend's current compute pass (so it is
 * ordered with tfjs' own kernels and submitted with them), and outputs become ordinary tensors.
 * tfjs' program template allows one output bound read-write; the fused kernels need several, and
 * read-write state that lives across dispatches (an LSTM's per-step buffers), hence this runner.
 */

/** The parts of WebGPUBackend we use that its typings keep private. */
interface BackendInternals {
  device: GPUDevice;
  queue: GPUQueue;
  tensorMap: { get(dataId: object): { resource: unknown } };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<object>;
  dispatchCountInPass: number;
  uniformPendingDisposal: GPUBuffer[];
}

/** Whether the fused WebGPU kernels are used: on the webgpu backend unless `INTRODL_WEBGPU_FUSED=0`. */
export function fusedWebGPUActive(): boolean {
  return tf.getBackend() === 'webgpu' && process.env.INTRODL_WEBGPU_FUSED !== '0';
}

/**
 * Whether a fused kernel binding `buffers` storage buffers can run: the fused kernels are on and
 * the device allows that many per shader (WebGPU guarantees only 8; ask for more through
 * deviceDescriptor). Kernels that need more fall back to tfjs ops on a device that has fewer.
 */
export function fusedWebGPUFits(buffers: number): boolean {
  return fusedWebGPUActive() && maxStorageBuffers(webgpuBackend()) >= buffers;
}

/** The active webgpu backend, with the internals the runner needs. */
export function webgpuBackend(): WebGPUBackend {
  if (tf.getBackend() !== 'webgpu') throw new Error('the fused WebGPU kernels need the webgpu backend active');
  return tf.backend() as unknown as WebGPUBackend;
}

function internals(backend: WebGPUBackend): BackendInternals {
  return backend as unknown as BackendInternals;
}

/** `device`'s map in a per-device cache, created empty on first use. */
function cacheOf<T>(caches: WeakMap<GPUDevice, Map<string, T>>, device: GPUDevice): Map<string, T> {
  let cache = caches.get(device);
  if (!cache) {
    cache = new Map();
    caches.set(device, cache);
  }
  return cache;
}

/** The value for `key` in `device`'s cache, made by `make()` the first time. */
function cached<T>(caches: WeakMap<GPUDevice, Map<string, T>>, device: GPUDevice, key: string, make: () => T): T {
  const cache = cacheOf(caches, device);
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    cache.set(key, value);
  }
  return value;
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** The compiled pipeline for `key`, compiling `code()` (WGSL with entry point `main`) once per device. */
export function pipelineFor(backend: WebGPUBackend, key: string, code: () => string): GPUComputePipeline {
  const device = internals(backend).device;
  return cached(pipelines, device, key, () => {
    const module = device.createShaderModule({ code: code(), label: key });
    return device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
  });
}

/** A shape seen as rows of its last axis: [rows, last] (what the per-row and per-channel kernels take). */
export function rowsOfLast(shape: number[]): [number, number] {
  const last = shape[shape.length - 1];
  return [tf.util.sizeFromShape(shape) / last, last];
}

/** A float32 tensor of `shape` allocated on the GPU, contents undefined until a kernel writes it. */
export function allocate(backend: WebGPUBackend, shape: number[]): tf.TensorInfo {
  const b = internals(backend);
  const info = b.makeTensorInfo(shape, 'float32');
  b.uploadToGPU(info.dataId);
  return info;
}

/** Wraps a TensorInfo the backend made as a tf.Tensor the engine tracks (and tidy disposes). */
export function toTensor<T extends tf.Tensor>(info: tf.TensorInfo): T {
  return tf.engine().makeTensorFromTensorInfo(info) as T;
}

/** The device's limit on storage buffers bound to one shader. */
export function maxStorageBuffers(backend: WebGPUBackend): number {
  return internals(backend).device.limits.maxStorageBuffersPerShaderStage;
}

/** One dispatch of a compiled pipeline. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  /** Bound at @binding(0..n−1) in this order; read-only or read-write as the shader declares. */
  buffers: tf.TensorInfo[];
  /** Bound at @binding(n) as a uniform block of 32-bit words (padded to 16 bytes). */
  uniforms?: ArrayBuffer;
  workgroups: [number, number?, number?];
}

/**
 * Uniform blocks by content, kept on the GPU: a training step repeats the same shapes every step,
 * so most dispatches find their parameters already uploaded (no buffer to acquire, no write). The
 * least recently used are handed back to tfjs' pool (released at its next submit, after every
 * command recorded with them) past {@link UNIFORM_CACHE} entries, so blocks that change every step
 * (an optimizer's bias corrections) cannot grow it.
 */
const UNIFORM_CACHE = 512;
const uniformCache = new WeakMap<GPUDevice, Map<string, GPUBuffer>>();

function uniformBuffer(b: BackendInternals, data: ArrayBuffer, size: number): GPUBuffer {
  const cache = cacheOf(uniformCache, b.device);
  const key = `${size}:${new Uint32Array(data).join(',')}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const buffer = b.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
  b.queue.writeBuffer(buffer, 0, data, 0, data.byteLength);
  cache.set(key, buffer);
  if (cache.size > UNIFORM_CACHE) {
    const [oldest, old] = cache.entries().next().value as [string, GPUBuffer];
    cache.delete(oldest);
    b.uniformPendingDisposal.push(old);
  }
  return buffer;
}

/** Bind group entries @binding(0..n−1) for tensors' GPU buffers, uploaded and held until the next submit. */
function storageEntries(b: BackendInternals, buffers: tf.TensorInfo[]): GPUBindGroupEntry[] {
  return buffers.map((t, i) => {
    b.uploadToGPU(t.dataId);
    b.commandQueueOwnedIds.add(t.dataId);
    return { binding: i, resource: { buffer: b.tensorMap.get(t.dataId).resource as GPUBuffer } };
  });
}

/** The backend's current compute pass (begun if none is open), set to `pipeline`. */
function computePass(b: BackendInternals, pipeline: GPUComputePipeline): GPUComputePassEncoder {
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline);
  return b.computePassEncoder;
}

/** Counts one command towards tfjs' submit batch, submitting when the batch is full (as tfjs' own kernels do). */
function countCommand(b: BackendInternals): void {
  b.dispatchCountInPass++;
  if (b.dispatchCountInPass >= (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number)) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/** The workgroup counts of a dispatch, missing dimensions 1. */
function workgroupCounts(w: [number, number?, number?]): [number, number, number] {
  return [w[0], w[1] ?? 1, w[2] ?? 1];
}

/** Records one dispatch in the backend's command stream. */
export function dispatch(backend: WebGPUBackend, d: Dispatch): void {
  const b = internals(backend);
  const entries = storageEntries(b, d.buffers);
  if (d.uniforms) {
    const size = Math.ceil(d.uniforms.byteLength / 16) * 16;
    entries.push({ binding: d.buffers.length, resource: { buffer: uniformBuffer(b, d.uniforms, size), size } });
  }
  const bindGroup = b.device.createBindGroup({ layout: d.pipeline.getBindGroupLayout(0), entries });
  const pass = computePass(b, d.pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(...workgroupCounts(d.workgroups));
  countCommand(b);
}

/** A dispatch that writes new float32 outputs: its read-write buffers, bound after its inputs. */
export interface Launch {
  /** Bound first, at @binding(0..). */
  inputs: tf.TensorInfo[];
  /** The outputs' shapes, allocated in this order and bound after the inputs. */
  outputs: number[][];
  uniforms?: ArrayBuffer;
  workgroups: [number, number?, number?];
}

/**
 * Allocates a kernel's outputs, records its dispatch with the pipeline for `key` ({@link pipelineFor})
 * and returns the outputs.
 */
export function launch(backend: WebGPUBackend, key: string, code: () => string, l: Launch): tf.TensorInfo[] {
  const outputs = l.outputs.map((shape) => allocate(backend, shape));
  dispatch(backend, {
    pipeline: pipelineFor(backend, key, code),
    buffers: [...l.inputs, ...outputs],
    uniforms: l.uniforms,
    workgroups: l.workgroups,
  });
  return outputs;
}

/**
 * A pipeline whose uniform block is bound with a dynamic offset, for {@link dispatchSteps}: one
 * bind group serves every step of a loop, each step's parameters at its own offset in one buffer.
 * The layout is read from the WGSL's declarations (`var<storage, read>`, `var<storage, read_write>`,
 * `var<uniform>`, all in group 0).
 */
export interface StepPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

const stepPipelines = new WeakMap<GPUDevice, Map<string, StepPipeline>>();

/** The compiled {@link StepPipeline} for `key`, compiling `code()` once per device. */
export function stepPipelineFor(backend: WebGPUBackend, key: string, code: () => string): StepPipeline {
  const device = internals(backend).device;
  return cached(stepPipelines, device, key, () => {
    const wgsl = code();
    const entries: GPUBindGroupLayoutEntry[] = [];
    for (const m of wgsl.matchAll(/@binding\((\d+)\)\s*var<(storage,\s*(read_write|read)|uniform)>/g)) {
      const buffer: GPUBufferBindingLayout =
        m[2] === 'uniform'
          ? { type: 'uniform', hasDynamicOffset: true }
          : { type: m[3] === 'read' ? 'read-only-storage' : 'storage' };
      entries.push({ binding: Number(m[1]), visibility: GPUShaderStage.COMPUTE, buffer });
    }
    const layout = device.createBindGroupLayout({ entries, label: key });
    const module = device.createShaderModule({ code: wgsl, label: key });
    const pipeline = device.createComputePipeline({
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
      label: key,
    });
    return { pipeline, layout };
  });
}

/** A loop of dispatches of one pipeline over the same buffers, each step with its own uniforms. */
export interface StepsDispatch {
  pipeline: StepPipeline;
  /** Bound at @binding(0..n−1) for every step. */
  buffers: tf.TensorInfo[];
  /** Each step's uniform block (same size for all), bound at @binding(n). */
  steps: ArrayBuffer[];
  workgroups: [number, number?, number?];
}

/**
 * Records a whole loop (e.g. an LSTM's time steps) in the current compute pass with one bind group
 * and one uniform upload: per step only `setBindGroup` with a dynamic offset and the dispatch.
 * Through tfjs' per-op path every step would allocate and write a uniform buffer and create a bind
 * group (most of a dispatch's host cost on a GPU). Counts as one command towards tfjs' submit batch.
 */
export function dispatchSteps(backend: WebGPUBackend, d: StepsDispatch): void {
  if (d.steps.length === 0) return;
  const b = internals(backend);
  const align = b.device.limits.minUniformBufferOffsetAlignment;
  const blockSize = Math.ceil(d.steps[0].byteLength / 16) * 16;
  const stride = Math.ceil(blockSize / align) * align;
  const all = new Uint8Array(stride * d.steps.length);
  d.steps.forEach((s, i) => {
    all.set(new Uint8Array(s), i * stride);
  });
  const uniform = uniformBuffer(b, all.buffer, all.byteLength);
  const entries = storageEntries(b, d.buffers);
  entries.push({ binding: d.buffers.length, resource: { buffer: uniform, offset: 0, size: blockSize } });
  const bindGroup = b.device.createBindGroup({ layout: d.pipeline.layout, entries });
  const pass = computePass(b, d.pipeline.pipeline);
  const [x, y, z] = workgroupCounts(d.workgroups);
  const offset = [0];
  for (let i = 0; i < d.steps.length; i++) {
    offset[0] = i * stride;
    pass.setBindGroup(0, bindGroup, offset);
    pass.dispatchWorkgroups(x, y, z);
  }
  countCommand(b);
}

/** Packs uniform words: integers as u32, non-integers as f32 (mark floats with {@link f32}). */
export function words(...values: (number | { f32: number })[]): ArrayBuffer {
  const buffer = new ArrayBuffer(Math.max(16, Math.ceil((values.length * 4) / 16) * 16));
  const u = new Uint32Array(buffer);
  const f = new Float32Array(buffer);
  values.forEach((v, i) => {
    if (typeof v === 'number') u[i] = v;
    else f[i] = v.f32;
  });
  return buffer;
}

/** A float uniform for {@link words}. */
export function f32(value: number): { f32: number } {
  return { f32: value };
}

/** Workgroups of `size` threads to cover `n` items. */
export function groups(n: number, size = 64): number {
  return Math.max(1, Math.ceil(n / size));
}

/** A 2-D grid of workgroups of `size` threads covering `n` items (x at most 65,535, WebGPU's limit). */
export function grid(n: number, size = 256): [number, number] {
  const total = groups(n, size);
  const x = Math.min(total, 65535);
  return [x, Math.ceil(total / x)];
}

/**
 * Registers a kernel for the webgpu backend and its gradient (once per name). A registered kernel,
 * unlike tf.customGrad, lets tfjs ask only for the gradients it needs (not the data's).
 */
export function registerWebGPUKernel(kernel: Omit<tf.KernelConfig, 'backendName'>, gradient: tf.GradConfig): void {
  if (tf.getKernel(kernel.kernelName, 'webgpu')) return;
  tf.registerKernel({ ...kernel, backendName: 'webgpu' });
  tf.registerGradient(gradient);
}
