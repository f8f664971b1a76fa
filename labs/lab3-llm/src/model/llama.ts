import {
  BadShapeError,
  cachedAttention,
  causalAttention,
  fusedWebGPUActive,
  kvCacheWritable,
  type LoraGroupOptions,
  loraLinearGroup,
  Rng,
  rmsNorm,
  swiglu,
  type Trainable,
  tf,
} from '@introdl/core';
import { checkpointed } from './checkpoint.js';
import {
  ALL_PROJECTIONS,
  type LayerType,
  type LlamaConfig,
  layerType,
  PROJECTIONS,
  type Projection,
} from './config.js';
import type { KVCache } from './kv-cache.js';
import { expectedWeights, finalNormName, type LayerNames, layerNames } from './layout.js';
import { PackedWeight, packedGather, packedLinear } from './packed.js';
import { layerRope, type RopeParams, ropeTables } from './rope.js';

/** How a forward pass is run. */
export interface ForwardOptions {
  /** Keys/values of earlier positions; this call's are appended. Positions continue from its length. */
  cache?: KVCache;
  /** Turns on LoRA dropout. */
  training?: boolean;
  /** Seeds dropout masks. */
  rng?: Rng;
  /** Only compute the logits of the last position (generation: saves the big vocabulary matmul). */
  lastPositionOnly?: boolean;
  /**
   * Gradient checkpointing: keep only each layer's input and recompute the layer in the backward
   * pass (about a third more compute, a fraction of the activation memory). Ignored with a cache.
   */
  checkpoint?: boolean;
  /** Several sequences packed in each row: tokens attend only within their own sequence. */
  packing?: PackedRows;
}

/**
 * Where each token of a packed [B, T] batch belongs: its sequence (segment) and its position in
 * that sequence, both [B·T] row-major. Padding can be a segment of its own.
 */
export interface PackedRows {
  segments: Int32Array;
  positions: Int32Array;
}

/**
 * Something added to a projection's output: LoRA's low-rank update. The model asks each adapter for
 * its contribution unless the adapter has been merged into the weight.
 */
export interface LinearAdapter {
  readonly merged: boolean;
  /** The update for input rows x [n, in]: [n, out]. */
  delta(x: tf.Tensor2D, options: ForwardOptions): tf.Tensor2D;
  variables(): Map<string, tf.Variable>;
  dispose(): void;
}

/** A base weight: a float32 tensor, or a 16-bit packed matrix (see packed.ts). */
export type BaseWeight = tf.Tensor | PackedWeight;

/** Per-forward-pass tables: rotary cos/sin for the positions, and attention masks. */
interface StepContext {
  B: number;
  T: number;
  start: number;
  rope(l: number): { cos: tf.Tensor4D; sin: tf.Tensor4D };
  mask(type: LayerType, rep: number, keys: number): tf.Tensor | undefined;
  /** LFM2 with packing: for tap k (reaching back kernel − 1 − k positions), 1 where it stays in the sequence. */
  convValid(k: number, kernel: number): tf.Tensor | undefined;
}

const NEG = -1e9;

/** A LoRA adapter's A, B and scale when its update is plain x·Aᵀ·Bᵀ·scale here (no dropout active). */
function plainLora(
  adapter: LinearAdapter,
  options: ForwardOptions,
): { A: tf.Tensor2D; B: tf.Tensor2D; scale: number } | undefined {
  const a = adapter as LinearAdapter & { A?: tf.Tensor2D; B?: tf.Tensor2D; scale?: number; dropout?: number };
  if (!(a.A instanceof tf.Tensor) || !(a.B instanceof tf.Tensor) || typeof a.scale !== 'number') return undefined;
  if (options.training && (a.dropout ?? 0) > 0) return undefined;
  return { A: a.A, B: a.B, scale: a.scale };
}

/**
 * A decoder-only transformer in TensorFlow.js: Llama 2/3, Mistral, Qwen2/3, SmolLM2, Gemma 1/2/3
 * (text) and LFM2, plus llama2.c checkpoints. token embedding (× Gemma's √hidden) → N layers →
 * RMSNorm → output projection (tied or not, Gemma 2's soft-capping). A layer is
 * [RMSNorm → mixing → (Gemma: RMSNorm) → residual] then [RMSNorm → gated MLP (SwiGLU or GeGLU) →
 * (Gemma: RMSNorm) → residual], where mixing is grouped-query attention with rotary embeddings
 * (optionally per-head q/k norms, a sliding window, score soft-capping) or LFM2's short causal
 * convolution.
 *
 * Weights are in Hugging Face's names and PyTorch's [out, in] layout (layout.ts), with q and k in
 * the rotate-half order (the llama2.c loader permutes them), as float32 tensors or 16-bit packed
 * matrices. They are frozen: the only trainable variables are those of the adapters (LoRA).
 */
export class LlamaModel implements Trainable {
  private readonly weights: Map<string, BaseWeight>;
  /** Adapters by module path, e.g. `model.layers.0.self_attn.q_proj`. */
  readonly adapters = new Map<string, LinearAdapter>();
  private readonly ropes = new Map<string, { n: number; cos: tf.Tensor2D; sin: tf.Tensor2D }>();
  private readonly masks = new Map<string, tf.Tensor>();
  private readonly names: LayerNames[];
  /** Tables of the last checkpointed pass, kept until its backward pass is over (freed by the next pass). */
  private retained: tf.Tensor[] = [];

  /**
   * @param weights every tensor of {@link expectedWeights}; the model takes ownership.
   * @throws BadShapeError when a weight is missing or has the wrong shape.
   */
  constructor(
    readonly config: LlamaConfig,
    weights: Map<string, BaseWeight>,
  ) {
    for (const [name, shape] of expectedWeights(config)) {
      const t = weights.get(name);
      if (!t) throw new BadShapeError(`weight ${name}`, shape, []);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new BadShapeError(`weight ${name}`, shape, [...t.shape]);
      }
    }
    this.weights = weights;
    this.names = Array.from({ length: config.numLayers }, (_, l) => layerNames(config, l));
  }

  /** A float32 base weight by its Hugging Face name (see {@link floatWeight} for packed ones). */
  weight(name: string): tf.Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    if (t instanceof PackedWeight) {
      throw new Error(`weight ${name} is stored in ${t.kind}; use floatWeight() for a float32 copy`);
    }
    return t;
  }

  /** The stored form of a base weight: a float32 tensor or a packed 16-bit matrix. */
  storedWeight(name: string): BaseWeight {
    const t = this.weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return t;
  }

  /** A float32 copy of a base weight, packed or not; the caller disposes it. */
  floatWeight(name: string): tf.Tensor {
    const t = this.storedWeight(name);
    return t instanceof PackedWeight ? t.dequantize() : t.clone();
  }

  /** Replaces a base weight (merging LoRA; a packed weight becomes float32); the old one is disposed. */
  setWeight(name: string, value: tf.Tensor): void {
    const old = this.storedWeight(name);
    if (old.shape.some((d, i) => d !== value.shape[i]))
      throw new BadShapeError(`weight ${name}`, [...old.shape], value.shape);
    this.weights.set(name, tf.keep(value));
    old.dispose();
  }

  /** Names of the base weights. */
  weightNames(): string[] {
    return [...this.weights.keys()];
  }

  /** Trainable variables: the adapters', by PEFT tensor name. */
  variables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const a of this.adapters.values()) for (const [k, v] of a.variables()) out.set(k, v);
    return out;
  }

  /** Parameters of the base model (tied embeddings once) plus the adapters'. */
  parameterCount(): { base: number; adapters: number } {
    let base = 0;
    for (const t of this.weights.values()) base += t.size;
    let adapters = 0;
    for (const v of this.variables().values()) adapters += v.size;
    return { base, adapters };
  }

  /** Bytes the weights take in memory (packed weights two per value, the rest four). */
  bytes(): number {
    let n = 0;
    for (const t of this.weights.values()) n += t instanceof PackedWeight ? t.bytes : t.size * 4;
    for (const v of this.variables().values()) n += v.size * 4;
    return n;
  }

  /** The projections present in every Llama-family layer, for LoRA targets. */
  static readonly projections: readonly Projection[] = ALL_PROJECTIONS;

  /** cos/sin [n, d] of a rotary parameter set for positions [0, n), grown on demand and kept. */
  private ropeTable(params: RopeParams, end: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    const key = `${params.ropeTheta}:${JSON.stringify(params.ropeScaling ?? null)}`;
    let table = this.ropes.get(key);
    if (!table || table.n < end) {
      const n = Math.max(end, Math.min(this.config.maxPositions, 256), (table?.n ?? 0) * 2);
      const { cos, sin } = ropeTables(params, 0, n);
      table?.cos.dispose();
      table?.sin.dispose();
      const d = params.headDim;
      table = { n, cos: tf.keep(tf.tensor2d(cos, [n, d])), sin: tf.keep(tf.tensor2d(sin, [n, d])) };
      this.ropes.set(key, table);
    }
    return table;
  }

  /**
   * The additive causal mask for the grouped layout: rows are (group member, query) pairs, i.e.
   * `rep * T` rows, and query t (absolute position start + t) sees keys 0..start + t, or only the
   * last `window` of them.
   */
  private causalMask(rep: number, T: number, start: number, window?: number): tf.Tensor {
    const key = `${rep}:${T}:${start}:${window ?? ''}`;
    let m = this.masks.get(key);
    if (!m) {
      const S = start + T;
      const data = new Float32Array(rep * T * S);
      for (let r = 0; r < rep; r++)
        for (let t = 0; t < T; t++) {
          const q = start + t;
          for (let s = 0; s < S; s++)
            if (s > q || (window !== undefined && q - s >= window)) data[(r * T + t) * S + s] = NEG;
        }
      m = tf.keep(tf.tensor2d(data, [rep * T, S]));
      if (this.masks.size > 16) {
        const first = this.masks.keys().next().value as string;
        this.masks.get(first)?.dispose();
        this.masks.delete(first);
      }
      this.masks.set(key, m);
    }
    return m;
  }

  /**
   * The packing layout of these [B, T] ids: the batch's own, or the first T tokens of each row of a
   * longer layout (the loss feeds ids[:, :-1] while the batch's layout covers ids).
   */
  private static packingFor(p: PackedRows, B: number, T: number, cache?: KVCache): PackedRows {
    const rowLength = p.segments.length / B;
    if (cache || !Number.isInteger(rowLength) || rowLength < T || p.positions.length !== p.segments.length) {
      throw new Error('packed rows need a segment and a position for every token, and no cache');
    }
    if (rowLength === T) return p;
    const segments = new Int32Array(B * T);
    const positions = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      segments.set(p.segments.subarray(b * rowLength, b * rowLength + T), b * T);
      positions.set(p.positions.subarray(b * rowLength, b * rowLength + T), b * T);
    }
    return { segments, positions };
  }

  /** Masks of packed rows: [B, 1, rep·T, T], a token sees earlier tokens of its own sequence. */
  private static packedMask(p: PackedRows, B: number, T: number, rep: number, window?: number): tf.Tensor {
    const data = new Float32Array(B * rep * T * T);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        const st = p.segments[b * T + t];
        const pt = p.positions[b * T + t];
        for (let s = 0; s < T; s++) {
          const ok =
            s <= t && p.segments[b * T + s] === st && (window === undefined || pt - p.positions[b * T + s] < window);
          if (!ok) for (let r = 0; r < rep; r++) data[((b * rep + r) * T + t) * T + s] = NEG;
        }
      }
    return tf.tensor4d(data, [B, 1, rep * T, T]);
  }

  /** Rotary tables, masks and packing helpers of one pass, kept past it when the pass is checkpointed. */
  private stepContext(B: number, T: number, start: number, options: ForwardOptions): StepContext {
    // Every table outlives the layer that creates it (each layer runs in its own tidy): kept until
    // the next pass, which is after the backward pass of a checkpointed one.
    const hold = <X extends tf.Tensor>(t: X): X => {
      tf.keep(t);
      this.retained.push(t);
      return t;
    };
    const ropeMemo = new Map<string, { cos: tf.Tensor4D; sin: tf.Tensor4D }>();
    const maskMemo = new Map<string, tf.Tensor | undefined>();
    const convMemo = new Map<number, tf.Tensor>();
    const packing = options.packing;
    const d = this.config.headDim;
    const window = this.config.slidingWindow;
    return {
      B,
      T,
      start,
      rope: (l) => {
        const params = layerRope(this.config, l);
        const key = `${params.ropeTheta}:${JSON.stringify(params.ropeScaling ?? null)}`;
        let r = ropeMemo.get(key);
        if (!r) {
          if (packing) {
            const end = packing.positions.reduce((m, p) => Math.max(m, p), 0) + 1;
            const table = this.ropeTable(params, end);
            const pos = tf.tensor1d(packing.positions, 'int32');
            r = {
              cos: hold(tf.gather(table.cos, pos).reshape([B, T, 1, d])),
              sin: hold(tf.gather(table.sin, pos).reshape([B, T, 1, d])),
            };
          } else {
            const table = this.ropeTable(params, start + T);
            r = {
              cos: hold(table.cos.slice([start, 0], [T, d]).reshape([1, T, 1, d])),
              sin: hold(table.sin.slice([start, 0], [T, d]).reshape([1, T, 1, d])),
            };
          }
          ropeMemo.set(key, r);
        }
        return r;
      },
      mask: (type, rep, keys) => {
        const key = `${type}:${rep}`;
        if (maskMemo.has(key)) return maskMemo.get(key);
        const w = type === 'sliding' ? window : undefined;
        let m: tf.Tensor | undefined;
        if (packing) m = hold(LlamaModel.packedMask(packing, B, T, rep, w));
        else if (T > 1 || (w !== undefined && keys > w)) m = this.causalMask(rep, T, start, w);
        maskMemo.set(key, m);
        return m;
      },
      convValid: (k, kernel) => {
        if (!packing) return undefined;
        let v = convMemo.get(k);
        if (!v) {
          const back = kernel - 1 - k;
          const data = new Float32Array(B * T);
          for (let b = 0; b < B; b++)
            for (let t = back; t < T; t++)
              data[b * T + t] = packing.segments[b * T + t - back] === packing.segments[b * T + t] ? 1 : 0;
          v = hold(tf.tensor3d(data, [B, T, 1]));
          convMemo.set(k, v);
        }
        return v;
      },
    };
  }

  /** x [n, in] through a linear module (plus its bias and its adapter's update; `around`: see projectGroup). */
  private project(x: tf.Tensor2D, module: string, options: ForwardOptions, around?: LoraGroupOptions): tf.Tensor2D {
    return this.projectGroup(x, [module], options, around)[0];
  }

  /**
   * x [n, in] through several linear modules (a layer's q, k and v; gate and up). On webgpu, when
   * each has a plain LoRA adapter, base matmuls and LoRA updates of the whole group run as one WGSL
   * dispatch forward and one or two backward (core's loraLinearGroup); elsewhere module by module.
   * `around` (the norm before the group, SwiGLU or the residual add after it) is given only where
   * {@link fusesLayer} holds, so always to core's loraLinearGroup.
   */
  private projectGroup(
    x: tf.Tensor2D,
    modules: string[],
    options: ForwardOptions,
    around?: LoraGroupOptions,
  ): tf.Tensor2D[] {
    const parts = modules.map((module) => {
      const adapter = this.adapters.get(module);
      return {
        module,
        adapter,
        bias: this.weights.get(`${module}.bias`),
        w: this.storedWeight(`${module}.weight`),
        lora: adapter && !adapter.merged ? plainLora(adapter, options) : undefined,
      };
    });
    if (fusedWebGPUActive() && parts.every((p) => p.lora && !(p.w instanceof PackedWeight))) {
      const ys = loraLinearGroup(
        x,
        parts.map((p) => ({ w: p.w as tf.Tensor2D, a: p.lora!.A, b: p.lora!.B, scale: p.lora!.scale })),
        around,
      );
      // Past the modules' outputs: x passed through (passInput).
      return ys.map((y, i) => {
        const bias = parts[i]?.bias;
        return (bias ? tf.add(y, bias as tf.Tensor) : y) as tf.Tensor2D;
      });
    }
    if (around) throw new Error(`internal: ${modules.join(', ')} cannot take the layer's norm or residual`);
    return parts.map(({ module, adapter, bias }) => {
      let y = this.linear(x, `${module}.weight`);
      if (bias) y = tf.add(y, bias as tf.Tensor);
      if (adapter && !adapter.merged) y = tf.add(y, adapter.delta(x, options));
      return y as tf.Tensor2D;
    });
  }

  /** x·Wᵀ for a base weight W [out, in], packed or not. */
  private linear(x: tf.Tensor2D, name: string): tf.Tensor2D {
    const w = this.storedWeight(name);
    return w instanceof PackedWeight
      ? packedLinear(x, w)
      : (tf.matMul(x, w as tf.Tensor2D, false, true) as tf.Tensor2D);
  }

  /** RMSNorm over the last axis: x / √(mean(x²) + ε) · (offset + w), offset 1 for Gemma. */
  private rmsnorm<X extends tf.Tensor>(x: X, name: string): X {
    const { w, eps } = this.normOf(name);
    return rmsNorm(x, w, eps); // one fused kernel each way on webgpu
  }

  /** A norm's scale (with Gemma's offset) and ε. */
  private normOf(name: string): { w: tf.Tensor; eps: number } {
    const w = this.weight(`${name}.weight`);
    return { w: this.config.normOffset ? tf.add(w, this.config.normOffset) : w, eps: this.config.rmsNormEps };
  }

  /**
   * Whether layer l runs as residual blocks fused into its LoRA groups on webgpu: RMSNorm inside
   * the q/k/v and gate/up kernels, SwiGLU inside gate/up's, the residual adds inside o_proj's and
   * down_proj's (core's loraLinearGroup options), saving a dispatch or two each. Needs a plain LoRA
   * adapter on every projection of an attention layer, float32 weights, no post-norms (Gemma 2/3)
   * and no bias but on q, k, v (Qwen2's, added after the group as elsewhere).
   */
  private fusesLayer(l: number, options: ForwardOptions): boolean {
    const names = this.names[l];
    if (!fusedWebGPUActive() || layerType(this.config, l) === 'conv' || names.postMixNorm || names.postFfnNorm) {
      return false;
    }
    return PROJECTIONS.every((role) => {
      const module = names.linear[role];
      if (!module) return false;
      const adapter = this.adapters.get(module);
      const biasFree =
        role === 'q_proj' || role === 'k_proj' || role === 'v_proj' || !this.weights.has(`${module}.bias`);
      return (
        adapter !== undefined &&
        !adapter.merged &&
        plainLora(adapter, options) !== undefined &&
        biasFree &&
        !(this.storedWeight(`${module}.weight`) instanceof PackedWeight)
      );
    });
  }

  /** x [B, T, heads, d] rotated (rotate-half convention) with the pass's cos/sin. */
  private static applyRope(x: tf.Tensor4D, rope: { cos: tf.Tensor4D; sin: tf.Tensor4D }): tf.Tensor4D {
    const d = x.shape[3];
    const x1 = x.slice([0, 0, 0, 0], [-1, -1, -1, d / 2]);
    const x2 = x.slice([0, 0, 0, d / 2], [-1, -1, -1, d / 2]);
    const rotated = tf.concat([tf.neg(x2), x1], 3);
    return tf.add(tf.mul(x, rope.cos), tf.mul(rotated, rope.sin)) as tf.Tensor4D;
  }

  /**
   * Attention of this pass's T positions (starting at ctx.start) for layer l. `block`: x is the
   * layer's input h and the result h + attention(norm(h)), with the norm and the add inside the
   * q/k/v and o_proj kernels ({@link fusesLayer}).
   */
  private attention(x: tf.Tensor2D, l: number, ctx: StepContext, options: ForwardOptions, block = false): tf.Tensor2D {
    const { numHeads: nh, numKvHeads: nkv, headDim: d } = this.config;
    const { B, T } = ctx;
    const names = this.names[l];
    const rep = nh / nkv;
    // In a block, x comes back out of the q/k/v group to be o_proj's residual: its two gradients
    // then add up inside the group's backward.
    const [qx, kx, vx, passed] = this.projectGroup(
      x,
      [names.linear.q_proj!, names.linear.k_proj!, names.linear.v_proj!],
      options,
      block ? { norm: this.normOf(names.inputNorm), passInput: true } : undefined,
    );
    const residual = block ? { residual: passed } : undefined;
    let q = qx.reshape<tf.Tensor4D>([B, T, nh, d]);
    let k = kx.reshape<tf.Tensor4D>([B, T, nkv, d]);
    let v = vx.reshape<tf.Tensor4D>([B, T, nkv, d]);
    if (names.qNorm && names.kNorm) {
      q = this.rmsnorm(q, names.qNorm);
      k = this.rmsnorm(k, names.kNorm);
    }
    const rope = ctx.rope(l);
    const scale = this.config.queryScale ?? 1 / Math.sqrt(d);
    if (
      fusedWebGPUActive() &&
      !options.packing &&
      !this.config.attnSoftcap &&
      layerType(this.config, l) === 'attention'
    ) {
      const cos = rope.cos.reshape<tf.Tensor2D>([T, d]);
      const sin = rope.sin.reshape<tf.Tensor2D>([T, d]);
      let attended: tf.Tensor4D;
      if (options.cache) {
        // Decoding: the new keys go into the cache rotated (one WGSL kernel writing a preallocated
        // cache in place where it can, core's writeKVCache), then one for attention (cachedAttention).
        const cached = kvCacheWritable(d)
          ? options.cache.write(l, k, v, cos, sin, ctx.start, this.config.maxPositions)
          : options.cache.append(l, LlamaModel.applyRope(k, rope).transpose([0, 2, 1, 3]), v.transpose([0, 2, 1, 3]));
        attended = cachedAttention(q, cached.k, cached.v, cos, sin, scale, ctx.start);
      } else {
        // Training and prompts: one WGSL kernel each way (core's causalAttention).
        attended = causalAttention(q, k, v, cos, sin, scale);
      }
      return this.project(attended.reshape<tf.Tensor2D>([B * T, nh * d]), names.linear.o_proj!, options, residual);
    }
    q = LlamaModel.applyRope(q, rope);
    k = LlamaModel.applyRope(k, rope).transpose([0, 2, 1, 3]);
    v = v.transpose([0, 2, 1, 3]);
    if (options.cache) ({ k, v } = options.cache.append(l, k, v));
    // Query heads h = g * rep + r share key/value head g (HF repeat_kv, llama2.c h / kv_mul): group
    // them as [B, nkv, rep * T, d] so one batched matmul per kv head serves all its query heads.
    const qg = q.transpose([0, 2, 1, 3]).reshape([B, nkv, rep * T, d]);
    let scores = tf.mul(tf.matMul(qg, k, false, true), scale);
    const cap = this.config.attnSoftcap;
    if (cap) scores = tf.mul(tf.tanh(tf.div(scores, cap)), cap);
    const mask = ctx.mask(layerType(this.config, l), rep, k.shape[2]);
    if (mask) scores = tf.add(scores, mask);
    const attended = tf.matMul(tf.softmax(scores), v); // [B, nkv, rep*T, d]
    const merged = attended
      .reshape([B, nh, T, d])
      .transpose([0, 2, 1, 3])
      .reshape([B * T, nh * d]) as tf.Tensor2D;
    return this.project(merged, names.linear.o_proj!, options, residual);
  }

  /**
   * LFM2's short convolution block: in_proj → (b, c, x) → b·x through a depthwise causal
   * convolution of `kernel` taps → times c → out_proj. With a cache the last kernel − 1 inputs of
   * the convolution carry over to the next pass.
   */
  private shortConv(x: tf.Tensor2D, l: number, ctx: StepContext, options: ForwardOptions): tf.Tensor2D {
    const { B, T } = ctx;
    const H = this.config.hiddenSize;
    const L = this.config.convKernel ?? 3;
    const names = this.names[l];
    const bcx = this.project(x, names.linear.in_proj!, options).reshape([B, T, 3 * H]);
    const [b, c, xx] = tf.split(bcx, 3, 2) as tf.Tensor3D[];
    const bx = tf.mul(b, xx) as tf.Tensor3D;
    const prev = options.cache?.convState(l) ?? tf.zeros([B, L - 1, H]);
    const full = tf.concat([prev, bx], 1) as tf.Tensor3D; // [B, L-1+T, H]
    if (options.cache) options.cache.setConvState(l, full.slice([0, T, 0], [B, L - 1, H]));
    const kernel = this.weight(`${names.conv!}.weight`).reshape([H, L]);
    let out: tf.Tensor = tf.zeros([B, T, H]);
    for (let k = 0; k < L; k++) {
      // tap k multiplies the input kernel − 1 − k positions back
      let tap = tf.mul(full.slice([0, k, 0], [B, T, H]), kernel.slice([0, k], [H, 1]).reshape([H]));
      const valid = ctx.convValid(k, L);
      if (valid) tap = tf.mul(tap, valid);
      out = tf.add(out, tap);
    }
    const bias = this.weights.get(`${names.conv!}.bias`);
    if (bias) out = tf.add(out, bias as tf.Tensor);
    const y = tf.mul(c, out).reshape([B * T, H]) as tf.Tensor2D;
    return this.project(y, names.linear.conv_out_proj!, options);
  }

  /**
   * The gated MLP of layer l. `block`: x is the residual stream h1 and the result h1 + mlp(norm(h1)),
   * with the norm, SwiGLU and the add inside the gate/up and down_proj kernels ({@link fusesLayer}).
   */
  private mlp(x: tf.Tensor2D, l: number, options: ForwardOptions, block = false): tf.Tensor2D {
    const names = this.names[l].linear;
    const gelu = this.config.hiddenAct === 'gelu_tanh';
    const modules = [names.gate_proj!, names.up_proj!];
    if (block && !gelu) {
      const norm = this.normOf(this.names[l].ffnNorm);
      const [act, passed] = this.projectGroup(x, modules, options, { norm, swiglu: true, passInput: true });
      return this.project(act, names.down_proj!, options, { residual: passed });
    }
    const around = block ? { norm: this.normOf(this.names[l].ffnNorm), passInput: true } : undefined;
    const [gate, up, passed] = this.projectGroup(x, modules, options, around);
    const residual = block ? { residual: passed } : undefined;
    if (gelu) {
      // GELU, tanh approximation (PyTorch's gelu(approximate="tanh")): ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
      const inner = tf.mul(tf.add(gate, tf.mul(tf.pow(gate, 3), 0.044715)), Math.sqrt(2 / Math.PI));
      const act = tf.mul(tf.mul(gate, 0.5), tf.add(tf.tanh(inner), 1));
      return this.project(tf.mul(act, up) as tf.Tensor2D, names.down_proj!, options, residual);
    }
    return this.project(swiglu(gate, up), names.down_proj!, options); // fused on webgpu
  }

  /** One decoder layer on h [B·T, hidden]. */
  private layer(h: tf.Tensor2D, l: number, ctx: StepContext, options: ForwardOptions): tf.Tensor2D {
    const names = this.names[l];
    if (this.fusesLayer(l, options)) {
      return this.mlp(this.attention(h, l, ctx, options, true), l, options, true);
    }
    const x = this.rmsnorm(h, names.inputNorm);
    let mixed =
      layerType(this.config, l) === 'conv' ? this.shortConv(x, l, ctx, options) : this.attention(x, l, ctx, options);
    if (names.postMixNorm) mixed = this.rmsnorm(mixed, names.postMixNorm);
    const h1 = tf.add(h, mixed) as tf.Tensor2D;
    let f = this.mlp(this.rmsnorm(h1, names.ffnNorm), l, options);
    if (names.postFfnNorm) f = this.rmsnorm(f, names.postFfnNorm);
    return tf.add(h1, f) as tf.Tensor2D;
  }

  /** Trainable variables of layer l's adapters. */
  private layerVariables(l: number): tf.Variable[] {
    const prefix = `model.layers.${l}.`;
    const out: tf.Variable[] = [];
    for (const [module, a] of this.adapters)
      if (module.startsWith(prefix) && !a.merged) out.push(...a.variables().values());
    return out;
  }

  /** Token embeddings [B·T, hidden] (Gemma scales them by √hidden). */
  private embed(ids: tf.Tensor2D): tf.Tensor2D {
    const table = this.storedWeight('model.embed_tokens.weight');
    const flat = ids.flatten() as tf.Tensor1D;
    let h =
      table instanceof PackedWeight
        ? packedGather(table, flat)
        : (tf.gather(table as tf.Tensor2D, flat) as tf.Tensor2D);
    if (this.config.embedScale) h = tf.mul(h, this.config.embedScale);
    return h;
  }

  /** Rows of the embedding table as float32 (row-major), whatever its storage. */
  embeddingRows(rows: number[]): Float32Array {
    return tf.tidy(() => {
      const table = this.storedWeight('model.embed_tokens.weight');
      const ids = tf.tensor1d(rows, 'int32');
      const out = table instanceof PackedWeight ? packedGather(table, ids) : tf.gather(table as tf.Tensor2D, ids);
      return out.dataSync() as Float32Array;
    });
  }

  /**
   * Logits [B, T, vocab] (or [B, 1, vocab] with `lastPositionOnly`) for token ids [B, T].
   * Right padding needs no attention mask: padded positions come after every real one, and the
   * causal mask already hides later positions.
   */
  forward(ids: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    const start = options.cache?.length ?? 0;
    const end = options.packing ? options.packing.positions.reduce((m, p) => Math.max(m, p), 0) + 1 : start + T;
    if (end > this.config.maxPositions) {
      throw new BadShapeError('sequence', `at most ${this.config.maxPositions} positions`, [end]);
    }
    if (options.packing) options = { ...options, packing: LlamaModel.packingFor(options.packing, B, T, options.cache) };
    tf.dispose(this.retained);
    this.retained = [];
    const result = tf.tidy(() => {
      const ctx = this.stepContext(B, T, start, options);
      let h = this.embed(ids);
      const checkpoint = options.checkpoint === true && !options.cache;
      for (let l = 0; l < this.config.numLayers; l++) {
        const input = h;
        if (checkpoint) {
          // The recomputation must draw the same dropout masks: seed the layer from outside.
          const seed = options.rng?.seed();
          const run = (x: tf.Tensor2D) =>
            this.layer(x, l, ctx, { ...options, rng: seed === undefined ? undefined : new Rng(seed) });
          h = checkpointed(run, input, this.layerVariables(l));
        } else {
          // One tidy per layer: its intermediates go as soon as it is done (the tape keeps what the
          // backward pass needs), so a pass holds one layer's temporaries, not all of them.
          h = tf.tidy(() => this.layer(input, l, ctx, options));
        }
      }
      let rows = T;
      if (options.lastPositionOnly && T > 1) {
        h = h
          .reshape([B, T, -1])
          .slice([0, T - 1, 0], [B, 1, -1])
          .reshape([B, -1]);
        rows = 1;
      }
      const final = this.rmsnorm(h, finalNormName(this.config).replace(/\.weight$/, ''));
      const head = this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
      let logits: tf.Tensor = this.linear(final, head);
      const cap = this.config.finalSoftcap;
      if (cap) logits = tf.mul(tf.tanh(tf.div(logits, cap)), cap);
      return logits.reshape([B, rows, this.config.vocabSize]) as tf.Tensor3D;
    });
    options.cache?.advance(T);
    return result;
  }

  /** Frees every tensor: weights, adapters, tables. */
  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
    for (const a of this.adapters.values()) a.dispose();
    this.adapters.clear();
    for (const r of this.ropes.values()) tf.dispose([r.cos, r.sin]);
    this.ropes.clear();
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
    tf.dispose(this.retained);
    this.retained = [];
  }
}
