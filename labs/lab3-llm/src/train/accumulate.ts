import { type Optimizer, type OptimizerState, tf } from '@introdl/core';

/**
 * Gradient accumulation as an optimizer: it sums the gradients of `every` consecutive calls and
 * hands their mean to the inner optimizer on the last one, so `every` micro-batches make one update
 * with the memory of one. The sums and the count are part of its state, so a checkpoint taken
 * between updates resumes exactly.
 */
export class GradientAccumulation implements Optimizer {
  readonly name: string;
  private sums = new Map<string, tf.Variable>();
  private count = 0;

  constructor(
    readonly inner: Optimizer,
    readonly every: number,
  ) {
    if (!(Number.isInteger(every) && every >= 1)) throw new RangeError('accumulation steps must be a positive integer');
    // the inner name, so checkpoints written with and without accumulation stay comparable
    this.name = inner.name;
  }

  get learningRate(): number {
    return this.inner.learningRate;
  }

  set learningRate(value: number) {
    this.inner.learningRate = value;
  }

  /** Micro-batches summed since the last update. */
  get pending(): number {
    return this.count;
  }

  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    if (this.every === 1) {
      this.inner.applyGradients(params, grads);
      return;
    }
    tf.tidy(() => {
      for (const [name, g] of Object.entries(grads)) {
        const sum = this.sums.get(name);
        if (sum) sum.assign(tf.add(sum, g));
        else this.sums.set(name, tf.variable(g.clone(), false));
      }
    });
    this.count++;
    if (this.count < this.every) return;
    const mean: Record<string, tf.Tensor> = {};
    for (const [name, sum] of this.sums) mean[name] = tf.div(sum, this.every);
    this.inner.applyGradients(params, mean);
    tf.dispose(Object.values(mean));
    for (const v of this.sums.values()) v.dispose();
    this.sums.clear();
    this.count = 0;
  }

  getState(): OptimizerState {
    const inner = this.inner.getState();
    const tensors = new Map(inner.tensors);
    for (const [name, v] of this.sums) tensors.set(`accumulated/${name}`, v);
    return { tensors, scalars: { ...inner.scalars, accumulated: this.count } };
  }

  setState(state: OptimizerState): void {
    const inner = new Map<string, tf.Tensor>();
    for (const v of this.sums.values()) v.dispose();
    this.sums.clear();
    for (const [key, t] of state.tensors) {
      if (key.startsWith('accumulated/')) this.sums.set(key.slice('accumulated/'.length), tf.variable(t, false));
      else inner.set(key, t);
    }
    const { accumulated, ...scalars } = state.scalars;
    this.count = accumulated ?? 0;
    this.inner.setState({ tensors: inner, scalars });
  }

  config(): Record<string, number | string> {
    return { ...this.inner.config(), gradientAccumulation: this.every };
  }

  dispose(): void {
    for (const v of this.sums.values()) v.dispose();
    this.sums.clear();
    this.inner.dispose();
  }
}
