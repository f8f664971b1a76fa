import * as tf from '@tensorflow/tfjs';
import { dispatch, f32, grid, maxStorageBuffers, pipelineFor, webgpuBackend, words } from './runner.js';
import { WGSL_FLAT_INDEX, WGSL_GRID_BUILTINS } from './wgsl.js';

export { fusedWebGPUActive as fusedOptimizerActive } from './runner.js';

/**
 * Adam and Lion as fused WebGPU kernels: one dispatch updates a group of parameters in place (the
 * weights and the optimizer's slots), instead of about ten tfjs kernels per parameter. A group holds
 * as many parameters as the device lets one shader bind (4 storage buffers each for Adam, 3 for
 * Lion): all of Lab 1's in two dispatches on llvmpipe's 16, in one where a GPU allows more.
 * Same arithmetic, in float32, as the tfjs-op versions in foundations/optimizers.ts.
 */

/** One parameter to update: the weight, its gradient and the optimizer's slots for it. */
export interface FusedParam {
  w: tf.Variable;
  g: tf.Tensor;
  /** Adam: [m, v]; Lion: [m]. */
  slots: tf.Variable[];
}

/** Hyper-parameters of one Adam step (bias corrections for this step included). */
export interface AdamStep {
  kind: 'adam';
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − lr·weightDecay (1 for plain Adam). */
  decay: number;
  correction1: number;
  correction2: number;
}

/** Hyper-parameters of one Lion step. */
export interface LionStep {
  kind: 'lion';
  lr: number;
  beta1: number;
  beta2: number;
  /** 1 − lr·weightDecay. */
  decay: number;
}

const UPDATE: Record<'adam' | 'lion', (k: number) => string> = {
  adam: (k) => `{
      let g = g${k}[i];
      let m = p.beta1 * m${k}[i] + (1.0 - p.beta1) * g;
      let v = p.beta2 * v${k}[i] + (1.0 - p.beta2) * g * g;
      m${k}[i] = m;
      v${k}[i] = v;
      let mh = m / p.c1;
      let vh = v / p.c2;
      w${k}[i] = w${k}[i] * p.decay - p.lr * (mh / (sqrt(vh) + p.eps));
    }`,
  lion: (k) => `{
      let g = g${k}[i];
      let m = m${k}[i];
      let update = sign(p.beta1 * m + (1.0 - p.beta1) * g);
      w${k}[i] = w${k}[i] * p.decay - p.lr * update;
      m${k}[i] = p.beta2 * m + (1.0 - p.beta2) * g;
    }`,
};

/** WGSL updating `count` parameters; thread `index` finds its parameter from the offsets. */
function shader(kind: 'adam' | 'lion', count: number): string {
  const slots = kind === 'adam' ? ['m', 'v'] : ['m'];
  const per = 2 + slots.length;
  const decls: string[] = [];
  for (let k = 0; k < count; k++) {
    decls.push(`@group(0) @binding(${per * k}) var<storage, read_write> w${k}: array<f32>;`);
    decls.push(`@group(0) @binding(${per * k + 1}) var<storage, read> g${k}: array<f32>;`);
    slots.forEach((s, j) => {
      decls.push(`@group(0) @binding(${per * k + 2 + j}) var<storage, read_write> ${s}${k}: array<f32>;`);
    });
  }
  const branches = Array.from({ length: count }, (_, k) => {
    const cond = k === count - 1 ? '' : `if (index < p.offsets[${k + 1}].x) `;
    return `${k === 0 ? '' : 'else '}${cond}{
    let i = index - p.offsets[${k}].x;
    ${UPDATE[kind](k)}
  }`;
  });
  return /* wgsl */ `
struct Params { lr: f32, beta1: f32, beta2: f32, eps: f32, decay: f32, c1: f32, c2: f32, total: u32,
  offsets: array<vec4<u32>, ${count + 1}> }
${decls.join('\n')}
@group(0) @binding(${per * count}) var<uniform> p: Params;
@compute @workgroup_size(256)
fn main(${WGSL_GRID_BUILTINS}) {
  let index = ${WGSL_FLAT_INDEX};
  if (index >= p.total) { return; }
  ${branches.join(' ')}
}
`;
}

/** Gives `v` a buffer of its own (a variable may share one with other tensors; we write in place). */
function own(v: tf.Variable): void {
  const backend = webgpuBackend();
  if (backend.refCount(v.dataId) <= 1) return;
  const copy = tf.tidy(() => tf.add(v, tf.scalar(0, v.dtype)));
  v.assign(copy);
  copy.dispose();
}

/**
 * One optimizer step over `params`, in ⌈n / per-dispatch⌉ dispatches. Weights and slots are updated
 * in place (each first given a buffer of its own if it shares one).
 */
export function fusedOptimizerUpdate(params: FusedParam[], step: AdamStep | LionStep): void {
  const backend = webgpuBackend();
  const per = step.kind === 'adam' ? 4 : 3;
  // Bounded by the bind group's binding limit too (a GPU may allow far more storage buffers), and
  // kept to 32 parameters so each shader stays small.
  const device = (backend as unknown as { device: GPUDevice }).device;
  const bindings = Math.min(maxStorageBuffers(backend), device.limits.maxBindingsPerBindGroup - 1);
  const perDispatch = Math.max(1, Math.min(32, Math.floor(bindings / per)));
  const live = params.filter((p) => p.w.size > 0);
  for (const p of live) {
    own(p.w);
    for (const s of p.slots) own(s);
  }
  for (let start = 0; start < live.length; start += perDispatch) {
    const group = live.slice(start, start + perDispatch);
    const offsets: number[] = [0];
    for (const p of group) offsets.push(offsets[offsets.length - 1] + p.w.size);
    const total = offsets[offsets.length - 1];
    const pipeline = pipelineFor(backend, `introdl-${step.kind}-${group.length}`, () =>
      shader(step.kind, group.length),
    );
    const hyper =
      step.kind === 'adam'
        ? [step.lr, step.beta1, step.beta2, step.epsilon, step.decay, step.correction1, step.correction2]
        : [step.lr, step.beta1, step.beta2, 0, step.decay, 1, 1];
    const uniforms = words(...hyper.map(f32), total, ...offsets.flatMap((o) => [o, 0, 0, 0]));
    dispatch(backend, {
      pipeline,
      buffers: group.flatMap((p) => [p.w, p.g, ...p.slots]),
      uniforms,
      workgroups: grid(total),
    });
  }
}
