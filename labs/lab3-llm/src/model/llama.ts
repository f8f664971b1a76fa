import { BadShapeError, type Rng, type Trainable, tf } from '@introdl/core';
import { expectedWeights, type LlamaConfig, PROJECTIONS, type Projection, projectionModule } from './config.js';
import type { KVCache } from './kv-cache.js';
import { ropeTables } from './rope.js';

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

/**
 * A Llama-family decoder (Llama 2/3, Mistral, Qwen2, llama2.c) in TensorFlow.js:
 * token embedding → N × [RMSNorm → grouped-query attention with rotary embeddings → residual →
 * RMSNorm → SwiGLU MLP → residual] → RMSNorm → output projection (tied to the embedding or not).
 *
 * Weights are plain tensors in Hugging Face's names and PyTorch's [out, in] layout, with q and k in
 * the rotate-half order (the llama2.c loader permutes them). They are frozen: the only trainable
 * variables are those of the adapters (LoRA) attached to projections.
 */
export class LlamaModel implements Trainable {
  private readonly weights: Map<string, tf.Tensor>;
  /** Adapters by module path, e.g. `model.layers.0.self_attn.q_proj`. */
  readonly adapters = new Map<string, LinearAdapter>();
  private rope?: { n: number; cos: tf.Tensor2D; sin: tf.Tensor2D };
  private readonly masks = new Map<string, tf.Tensor>();

  /**
   * @param weights every tensor of {@link expectedWeights}; the model takes ownership.
   * @throws BadShapeError when a weight is missing or has the wrong shape.
   */
  constructor(
    readonly config: LlamaConfig,
    weights: Map<string, tf.Tensor>,
  ) {
    for (const [name, shape] of expectedWeights(config)) {
      const t = weights.get(name);
      if (!t) throw new BadShapeError(`weight ${name}`, shape, []);
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new BadShapeError(`weight ${name}`, shape, t.shape);
      }
    }
    this.weights = weights;
  }

  /** A base weight by its Hugging Face name. */
  weight(name: string): tf.Tensor {
    const t = this.weights.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return t;
  }

  /** Replaces a base weight (merging LoRA); the old tensor is disposed. */
  setWeight(name: string, value: tf.Tensor): void {
    const old = this.weight(name);
    if (old.shape.some((d, i) => d !== value.shape[i]))
      throw new BadShapeError(`weight ${name}`, old.shape, value.shape);
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

  /** Bytes the weights take in memory (float32). */
  bytes(): number {
    const { base, adapters } = this.parameterCount();
    return (base + adapters) * 4;
  }

  /** The projections present in every layer, for LoRA targets. */
  static readonly projections: readonly Projection[] = PROJECTIONS;

  /** cos/sin [n, d] for positions [0, n), grown on demand and kept. */
  private ropeFor(end: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    if (!this.rope || this.rope.n < end) {
      const n = Math.max(end, Math.min(this.config.maxPositions, 256), (this.rope?.n ?? 0) * 2);
      const { cos, sin } = ropeTables(this.config, 0, n);
      this.rope?.cos.dispose();
      this.rope?.sin.dispose();
      const d = this.config.headDim;
      this.rope = { n, cos: tf.keep(tf.tensor2d(cos, [n, d])), sin: tf.keep(tf.tensor2d(sin, [n, d])) };
    }
    return this.rope;
  }

  /** x [B, T, heads, d] rotated for positions start..start+T (rotate-half convention). */
  private applyRope(x: tf.Tensor4D, start: number): tf.Tensor4D {
    const [, T, , d] = x.shape;
    const table = this.ropeFor(start + T);
    const cos = table.cos.slice([start, 0], [T, d]).reshape([1, T, 1, d]);
    const sin = table.sin.slice([start, 0], [T, d]).reshape([1, T, 1, d]);
    const x1 = x.slice([0, 0, 0, 0], [-1, -1, -1, d / 2]);
    const x2 = x.slice([0, 0, 0, d / 2], [-1, -1, -1, d / 2]);
    const rotated = tf.concat([tf.neg(x2), x1], 3);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor4D;
  }

  /**
   * The additive causal mask for the grouped layout: rows are (group member, query) pairs, i.e.
   * `rep * T` rows, and query t (absolute position start + t) sees keys 0..start + t.
   */
  private causalMask(rep: number, T: number, start: number): tf.Tensor {
    const key = `${rep}:${T}:${start}`;
    let m = this.masks.get(key);
    if (!m) {
      const S = start + T;
      const data = new Float32Array(rep * T * S);
      for (let r = 0; r < rep; r++)
        for (let t = 0; t < T; t++) for (let s = start + t + 1; s < S; s++) data[(r * T + t) * S + s] = -1e9;
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

  /** x [n, in] through a projection (plus its bias and its adapter's update). */
  private project(x: tf.Tensor2D, layer: number, projection: Projection, options: ForwardOptions): tf.Tensor2D {
    const module = projectionModule(layer, projection);
    let y = tf.matMul(x, this.weight(`${module}.weight`), false, true);
    const bias = this.weights.get(`${module}.bias`);
    if (bias) y = tf.add(y, bias);
    const adapter = this.adapters.get(module);
    if (adapter && !adapter.merged) y = tf.add(y, adapter.delta(x, options));
    return y as tf.Tensor2D;
  }

  private rmsnorm(x: tf.Tensor2D, weight: string): tf.Tensor2D {
    const variance = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(variance, this.config.rmsNormEps))), this.weight(weight)) as tf.Tensor2D;
  }

  /** Attention of T new positions starting at absolute position `start` (the cache length before this pass). */
  private attention(
    x: tf.Tensor2D,
    layer: number,
    B: number,
    T: number,
    start: number,
    options: ForwardOptions,
  ): tf.Tensor2D {
    const { numHeads: nh, numKvHeads: nkv, headDim: d } = this.config;
    const rep = nh / nkv;
    const q = this.applyRope(this.project(x, layer, 'q_proj', options).reshape<tf.Tensor4D>([B, T, nh, d]), start);
    let k = this.applyRope(this.project(x, layer, 'k_proj', options).reshape<tf.Tensor4D>([B, T, nkv, d]), start);
    let v = this.project(x, layer, 'v_proj', options).reshape<tf.Tensor4D>([B, T, nkv, d]);
    k = k.transpose([0, 2, 1, 3]);
    v = v.transpose([0, 2, 1, 3]);
    if (options.cache) ({ k, v } = options.cache.append(layer, k, v));
    // Query heads h = g * rep + r share key/value head g (HF repeat_kv, llama2.c h / kv_mul): group
    // them as [B, nkv, rep * T, d] so one batched matmul per kv head serves all its query heads.
    const qg = q.transpose([0, 2, 1, 3]).reshape([B, nkv, rep * T, d]);
    let scores = tf.mul(tf.matMul(qg, k, false, true), 1 / Math.sqrt(d));
    if (T > 1) scores = tf.add(scores, this.causalMask(rep, T, start));
    const attended = tf.matMul(tf.softmax(scores), v); // [B, nkv, rep*T, d]
    const merged = attended
      .reshape([B, nh, T, d])
      .transpose([0, 2, 1, 3])
      .reshape([B * T, nh * d]) as tf.Tensor2D;
    return this.project(merged, layer, 'o_proj', options);
  }

  private mlp(x: tf.Tensor2D, layer: number, options: ForwardOptions): tf.Tensor2D {
    const gate = this.project(x, layer, 'gate_proj', options);
    const up = this.project(x, layer, 'up_proj', options);
    return this.project(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), layer, 'down_proj', options);
  }

  /**
   * Logits [B, T, vocab] (or [B, 1, vocab] with `lastPositionOnly`) for token ids [B, T].
   * Right padding needs no attention mask: padded positions come after every real one, and the
   * causal mask already hides later positions.
   */
  forward(ids: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
    const [B, T] = ids.shape;
    const start = options.cache?.length ?? 0;
    if (start + T > this.config.maxPositions) {
      throw new BadShapeError('sequence', `at most ${this.config.maxPositions} positions`, [start + T]);
    }
    return tf.tidy(() => {
      let h = tf.gather(this.weight('model.embed_tokens.weight'), ids.flatten()) as tf.Tensor2D;
      for (let l = 0; l < this.config.numLayers; l++) {
        const a = this.attention(this.rmsnorm(h, `model.layers.${l}.input_layernorm.weight`), l, B, T, start, options);
        h = tf.add(h, a);
        const m = this.mlp(this.rmsnorm(h, `model.layers.${l}.post_attention_layernorm.weight`), l, options);
        h = tf.add(h, m);
      }
      let rows = T;
      if (options.lastPositionOnly && T > 1) {
        h = h
          .reshape([B, T, -1])
          .slice([0, T - 1, 0], [B, 1, -1])
          .reshape([B, -1]);
        rows = 1;
      }
      const final = this.rmsnorm(h, 'model.norm.weight');
      const head = this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
      return tf.matMul(final, this.weight(head), false, true).reshape([B, rows, this.config.vocabSize]) as tf.Tensor3D;
    });
  }

  /** Frees every tensor: weights, adapters, tables. */
  dispose(): void {
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
    for (const a of this.adapters.values()) a.dispose();
    this.adapters.clear();
    this.rope?.cos.dispose();
    this.rope?.sin.dispose();
    this.rope = undefined;
    for (const m of this.masks.values()) m.dispose();
    this.masks.clear();
  }
}
