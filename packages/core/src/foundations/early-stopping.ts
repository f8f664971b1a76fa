import * as tf from '@tensorflow/tfjs';

/** Options of {@link EarlyStopping}, as in Keras. */
export interface EarlyStoppingOptions {
  /** The validation metric to watch; lower is better. Default `val_loss`. */
  monitor?: string;
  /** How many validations without improvement to tolerate before stopping. */
  patience?: number;
  /** An improvement smaller than this does not count. */
  minDelta?: number;
  /** Put back the weights of the best validation when training stops. */
  restoreBestWeights?: boolean;
}

/**
 * Early stopping: stop when the validation metric has not improved by `minDelta` for `patience`
 * validations, and (optionally) restore the weights from the best one. This is regularisation by
 * choosing when to stop: it catches the point where validation loss starts rising.
 */
export class EarlyStopping {
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  best = Number.POSITIVE_INFINITY;
  bestStep = -1;
  wait = 0;
  stoppedAt: number | null = null;
  private bestWeights = new Map<string, tf.Tensor>();

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    this.patience = options.patience ?? 3;
    this.minDelta = options.minDelta ?? 0;
    this.restoreBestWeights = options.restoreBestWeights ?? true;
  }

  /**
   * Reports one validation. Returns true when training should stop.
   * `weights` are the model's variables, copied when this is the best so far.
   */
  update(step: number, metrics: Record<string, number>, weights: Map<string, tf.Variable>): boolean {
    const value = metrics[this.monitor];
    if (value === undefined)
      throw new Error(`early stopping monitors "${this.monitor}", which the validation did not report`);
    if (value < this.best - this.minDelta) {
      this.best = value;
      this.bestStep = step;
      this.wait = 0;
      if (this.restoreBestWeights) {
        for (const t of this.bestWeights.values()) t.dispose();
        this.bestWeights = new Map([...weights].map(([name, v]) => [name, tf.clone(v)]));
      }
      return false;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stoppedAt = step;
      return true;
    }
    return false;
  }

  /** Copies the best weights back into `weights` (when enabled and there was a best). */
  restore(weights: Map<string, tf.Variable>): boolean {
    if (!this.restoreBestWeights || this.bestWeights.size === 0) return false;
    for (const [name, v] of weights) {
      const best = this.bestWeights.get(name);
      if (best) v.assign(best);
    }
    return true;
  }

  /** State for a checkpoint: numbers, and the best weights as tensors named `best/<variable>`. */
  getState(): { json: Record<string, number | null>; tensors: Map<string, tf.Tensor> } {
    const tensors = new Map([...this.bestWeights].map(([n, t]) => [`best/${n}`, t] as [string, tf.Tensor]));
    return {
      json: { best: Number.isFinite(this.best) ? this.best : null, bestStep: this.bestStep, wait: this.wait },
      tensors,
    };
  }

  setState(json: Record<string, number | null>, tensors: Map<string, tf.Tensor>): void {
    this.best = json.best ?? Number.POSITIVE_INFINITY;
    this.bestStep = json.bestStep ?? -1;
    this.wait = json.wait ?? 0;
    for (const t of this.bestWeights.values()) t.dispose();
    this.bestWeights = new Map();
    for (const [name, t] of tensors) if (name.startsWith('best/')) this.bestWeights.set(name.slice(5), tf.clone(t));
  }
}
