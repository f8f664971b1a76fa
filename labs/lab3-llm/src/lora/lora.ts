import { BadFlagError, Rng, tf } from '@introdl/core';
import { ALL_PROJECTIONS, linearModules, type Projection } from '../model/config.js';
import type { ForwardOptions, LinearAdapter, LlamaModel } from '../model/llama.js';

/** LoRA hyper-parameters, PEFT's names in camelCase. Defaults are PEFT's (alpha 8, dropout 0). */
export interface LoraOptions {
  /** Rank r of the update B·A. */
  r: number;
  /** The update is scaled by alpha / r. */
  alpha?: number;
  /** Dropout on the adapter's input during training. */
  dropout?: number;
  /** Which projections get an adapter (PEFT target_modules). */
  targetModules: readonly Projection[];
  /** Seeds A's initialisation. */
  seed?: number;
}

/** PEFT's tensor name prefix for a module's LoRA weights. */
export function peftName(module: string, which: 'lora_A' | 'lora_B'): string {
  return `base_model.model.${module}.${which}.weight`;
}

/**
 * One LoRA adapter on a frozen projection W [out, in]: y = x·Wᵀ + (alpha/r)·dropout(x)·Aᵀ·Bᵀ with
 * A [r, in] (PEFT's kaiming-uniform init, bound 1/√in) and B [out, r] (zeros), so training starts
 * from the base model exactly.
 */
export class LoraLayer implements LinearAdapter {
  readonly A: tf.Variable;
  readonly B: tf.Variable;
  readonly scale: number;
  merged = false;

  constructor(
    readonly module: string,
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly r: number,
    readonly alpha: number,
    readonly dropout: number,
    rng: Rng,
  ) {
    const bound = 1 / Math.sqrt(inFeatures);
    const a = new Float32Array(r * inFeatures);
    for (let i = 0; i < a.length; i++) a[i] = (rng.next() * 2 - 1) * bound;
    this.A = tf.variable(tf.tensor2d(a, [r, inFeatures]), true);
    this.B = tf.variable(tf.zeros([outFeatures, r]), true);
    this.scale = alpha / r;
  }

  delta(x: tf.Tensor2D, options: ForwardOptions): tf.Tensor2D {
    let input = x;
    if (options.training && this.dropout > 0) {
      const seed = (options.rng ?? new Rng(0)).seed();
      const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), this.dropout), 'float32');
      input = tf.div(tf.mul(x, keep), 1 - this.dropout);
    }
    const down = tf.matMul(input, this.A, false, true); // [n, r]
    return tf.mul(tf.matMul(down, this.B, false, true), this.scale);
  }

  /** scale · B·A, the update as a full [out, in] matrix. */
  deltaWeight(): tf.Tensor2D {
    return tf.tidy(() => tf.mul(tf.matMul(this.B, this.A), this.scale));
  }

  variables(): Map<string, tf.Variable> {
    return new Map([
      [peftName(this.module, 'lora_A'), this.A],
      [peftName(this.module, 'lora_B'), this.B],
    ]);
  }

  dispose(): void {
    this.A.dispose();
    this.B.dispose();
  }
}

/** Module names other libraries use for a role (LFM2's PEFT configs name w1/w2/w3 and out_proj). */
const TARGET_ALIASES: Record<string, Projection> = {
  w1: 'gate_proj',
  w3: 'up_proj',
  w2: 'down_proj',
  out_proj: 'o_proj',
  conv_out: 'conv_out_proj',
};

/**
 * Parses `q,k,v,o,gate,up,down` (short or PEFT names, LFM2's w1/w2/w3 and `in` / `conv_out` for
 * its convolution blocks) or `all` into projection roles.
 */
export function parseTargets(value: string): Projection[] {
  if (value.trim() === 'all') return [...ALL_PROJECTIONS];
  const out: Projection[] = [];
  for (const raw of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const name = TARGET_ALIASES[raw] ?? ((raw.endsWith('_proj') ? raw : `${raw}_proj`) as Projection);
    if (!(ALL_PROJECTIONS as readonly string[]).includes(name)) {
      throw new BadFlagError(
        `unknown LoRA target "${raw}": use any of q, k, v, o, gate, up, down, in, conv_out (or all)`,
      );
    }
    if (!out.includes(name)) out.push(name);
  }
  if (out.length === 0) throw new BadFlagError('no LoRA targets given');
  return out;
}

/**
 * Attaches LoRA adapters to every layer's target projections. The base weights stay frozen: only the
 * adapters' A and B are trainable variables of the model.
 */
export function applyLora(model: LlamaModel, options: LoraOptions): void {
  if (!(Number.isInteger(options.r) && options.r > 0))
    throw new BadFlagError(`LoRA rank must be a positive integer, got ${options.r}`);
  const dropout = options.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new BadFlagError(`LoRA dropout must be in [0, 1), got ${dropout}`);
  if (model.adapters.size > 0)
    throw new BadFlagError('the model already has LoRA adapters; remove or merge them first');
  const rng = new Rng(options.seed ?? 0);
  const wanted = new Set(options.targetModules);
  for (const { module, role, shape } of linearModules(model.config)) {
    if (!wanted.has(role)) continue;
    const [out, inF] = shape;
    model.adapters.set(module, new LoraLayer(module, inF, out, options.r, options.alpha ?? 8, dropout, rng));
  }
}

/** Removes (and frees) every adapter, unmerging merged ones first so the base weights are restored. */
export function removeLora(model: LlamaModel): void {
  unmergeLora(model);
  for (const a of model.adapters.values()) a.dispose();
  model.adapters.clear();
}

/** The adapters of a model that are LoRA layers. */
export function loraLayers(model: LlamaModel): LoraLayer[] {
  return [...model.adapters.values()].filter((a): a is LoraLayer => a instanceof LoraLayer);
}

/** W ← W + scale·B·A for every adapter; the forward pass then skips the adapters (faster inference). */
export function mergeLora(model: LlamaModel): void {
  for (const a of loraLayers(model)) {
    if (a.merged) continue;
    const name = `${a.module}.weight`;
    // A packed (16-bit) weight becomes float32: rounding the merged weight back would lose the update.
    model.setWeight(
      name,
      tf.tidy(() => tf.add(model.floatWeight(name), a.deltaWeight())),
    );
    a.merged = true;
  }
}

/** W ← W − scale·B·A: undoes {@link mergeLora} (up to float32 rounding). */
export function unmergeLora(model: LlamaModel): void {
  for (const a of loraLayers(model)) {
    if (!a.merged) continue;
    const name = `${a.module}.weight`;
    model.setWeight(
      name,
      tf.tidy(() => tf.sub(model.floatWeight(name), a.deltaWeight())),
    );
    a.merged = false;
  }
}

/** Trainable and total parameter counts, as PEFT's print_trainable_parameters computes them. */
export function countParameters(model: LlamaModel): { trainable: number; all: number } {
  const { base, adapters } = model.parameterCount();
  return { trainable: adapters, all: base + adapters };
}

/** `trainable params: 10,383,360 || all params: 2,624,725,248 || trainable%: 0.3956` */
export function formatTrainableParameters(counts: { trainable: number; all: number }): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const pct = counts.all === 0 ? 0 : (100 * counts.trainable) / counts.all;
  return `trainable params: ${n(counts.trainable)} || all params: ${n(counts.all)} || trainable%: ${pct.toFixed(4)}`;
}
