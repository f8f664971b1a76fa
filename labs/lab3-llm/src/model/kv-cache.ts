import { tf, writeKVCache } from '@introdl/core';

/**
 * What a decoder remembers of the positions seen so far, per layer, so that generating one more
 * token costs one position's work instead of re-running the whole prefix: keys and values of
 * attention layers ([batch, kvHeads, S, d]) and, for LFM2's convolution layers, the last
 * kernel − 1 inputs of the convolution ([batch, kernel − 1, hidden]).
 */
export class KVCache {
  private readonly keys: (tf.Tensor4D | undefined)[];
  private readonly values: (tf.Tensor4D | undefined)[];
  private readonly conv: (tf.Tensor3D | undefined)[];
  private seen = 0;

  constructor(readonly numLayers: number) {
    this.keys = new Array(numLayers).fill(undefined);
    this.values = new Array(numLayers).fill(undefined);
    this.conv = new Array(numLayers).fill(undefined);
  }

  /** Positions stored (the position of the next token). */
  get length(): number {
    return this.seen;
  }

  /** Records that a forward pass stored `n` more positions (the model calls this after its layers). */
  advance(n: number): void {
    this.seen += n;
  }

  /**
   * Appends this step's keys and values for `layer` and returns the whole history. The stored tensors
   * are kept out of any surrounding tf.tidy; the previous ones are released.
   */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    const newK = tf.keep(oldK ? tf.concat([oldK, k], 2) : k.clone());
    const newV = tf.keep(oldV ? tf.concat([oldV, v], 2) : v.clone());
    oldK?.dispose();
    oldV?.dispose();
    this.keys[layer] = newK;
    this.values[layer] = newV;
    return { k: newK, v: newV };
  }

  /**
   * On webgpu (core's kvCacheWritable): writes this step's keys k (rotated here with cos/sin [T, d])
   * and values v, both [batch, T, kvHeads, d], into caches preallocated per layer, in place, and
   * returns them ([batch, kvHeads, capacity, d]: positions past start + T are zeros, which
   * cachedAttention never reads). One dispatch a layer instead of rotating, transposing and
   * concatenating (which copies the whole history every token). The capacity doubles when
   * needed, up to `limit` positions. Use either this or {@link append} for one cache.
   */
  write(
    layer: number,
    k: tf.Tensor4D,
    v: tf.Tensor4D,
    cos: tf.Tensor2D,
    sin: tf.Tensor2D,
    start: number,
    limit: number,
  ): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const [batch, time, kvHeads, d] = k.shape;
    const need = start + time;
    const old = { k: this.keys[layer], v: this.values[layer] };
    if (!old.k || !old.v || old.k.shape[2] < need) {
      const capacity = Math.max(need, Math.min(Math.max(64, 2 * (old.k?.shape[2] ?? 0)), limit));
      const grow = (t: tf.Tensor4D | undefined): tf.Tensor4D =>
        tf.keep(
          tf.tidy(() => {
            const more = tf.zeros([batch, kvHeads, capacity - (t?.shape[2] ?? 0), d]);
            return (t ? tf.concat([t, more], 2) : more) as tf.Tensor4D;
          }),
        );
      this.keys[layer] = grow(old.k);
      this.values[layer] = grow(old.v);
      old.k?.dispose();
      old.v?.dispose();
    }
    const kc = this.keys[layer] as tf.Tensor4D;
    const vc = this.values[layer] as tf.Tensor4D;
    writeKVCache(kc, vc, k, v, cos, sin, start);
    return { k: kc, v: vc };
  }

  /** The convolution inputs kept for `layer`, or undefined before the first pass. */
  convState(layer: number): tf.Tensor3D | undefined {
    return this.conv[layer];
  }

  /** Replaces the kept convolution inputs of `layer` (kept out of tf.tidy). */
  setConvState(layer: number, state: tf.Tensor3D): void {
    const old = this.conv[layer];
    this.conv[layer] = tf.keep(state.clone());
    old?.dispose();
  }

  /** Bytes held (float32). */
  bytes(): number {
    let n = 0;
    for (const t of [...this.keys, ...this.values, ...this.conv]) n += t ? t.size * 4 : 0;
    return n;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values, ...this.conv]) t?.dispose();
    this.keys.fill(undefined);
    this.values.fill(undefined);
    this.conv.fill(undefined);
    this.seen = 0;
  }
}
