import { type Optimizer, type OptimizerState, tf } from '@introdl/core';

/** Options of {@link Lion}; defaults are lion-pytorch's, which the course uses. */
export interface LionOptions {
  beta1?: number;
  beta2?: number;
  /** Decoupled weight decay: w ← w·(1 − η·λ) before the step. */
  weightDecay?: number;
}

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), the course's optimizer
 * (`lion_pytorch.Lion`, lr 1e-4, betas (0.9, 0.99), weight decay 0). One momentum slot m:
 *   update = sign(β1·m + (1 − β1)·g);  w ← w·(1 − η·λ) − η·update;  m ← β2·m + (1 − β2)·g.
 * Every coordinate moves by exactly η (or 0), so its learning rate is ~3–10× smaller than Adam's.
 */
export class Lion implements Optimizer {
  readonly name = 'lion';
  readonly beta1: number;
  readonly beta2: number;
  readonly weightDecay: number;
  private slots = new Map<string, tf.Variable>();
  private step = 0;

  constructor(
    public learningRate = 1e-4,
    options: LionOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.99;
    this.weightDecay = options.weightDecay ?? 0;
  }

  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step++;
    const { beta1, beta2, weightDecay, learningRate: lr } = this;
    tf.tidy(() => {
      for (const [name, w] of params) {
        const g = grads[name];
        if (!g) continue;
        let m = this.slots.get(`m/${name}`);
        if (!m) {
          m = tf.variable(tf.zerosLike(w), false);
          this.slots.set(`m/${name}`, m);
        }
        const update = tf.sign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        const decayed = weightDecay > 0 ? tf.mul(w, 1 - lr * weightDecay) : w;
        w.assign(tf.sub(decayed, tf.mul(update, lr)));
        m.assign(tf.add(tf.mul(m, beta2), tf.mul(g, 1 - beta2)));
      }
    });
  }

  getState(): OptimizerState {
    return { tensors: new Map(this.slots), scalars: { step: this.step } };
  }

  setState(state: OptimizerState): void {
    this.dispose();
    for (const [key, t] of state.tensors) this.slots.set(key, tf.variable(t, false));
    this.step = state.scalars.step ?? 0;
  }

  config(): Record<string, number | string> {
    return {
      optimizer: this.name,
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      weightDecay: this.weightDecay,
    };
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}
