import { tf } from '@introdl/core';

/**
 * Keys and values of the positions seen so far, per layer, so that generating one more token costs
 * one position's work instead of re-running the whole prefix. Each layer holds [batch, kvHeads, S, d].
 */
export class KVCache {
  private readonly keys: (tf.Tensor4D | undefined)[];
  private readonly values: (tf.Tensor4D | undefined)[];

  constructor(readonly numLayers: number) {
    this.keys = new Array(numLayers).fill(undefined);
    this.values = new Array(numLayers).fill(undefined);
  }

  /** Positions stored (the position of the next token). */
  get length(): number {
    return this.keys[0]?.shape[2] ?? 0;
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

  /** Bytes held (float32). */
  bytes(): number {
    let n = 0;
    for (const t of [...this.keys, ...this.values]) n += t ? t.size * 4 : 0;
    return n;
  }

  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t?.dispose();
    this.keys.fill(undefined);
    this.values.fill(undefined);
  }
}
