import * as tf from '@tensorflow/tfjs';
import { type FusedParam, fusedOptimizerActive, fusedOptimizerUpdate } from '../kernels/webgpu/optimizers.js';

/**
 * Optimizers written out, update rule by update rule, with state a checkpoint can save.
 * Each takes the gradients by variable name and updates the variables in place.
 */

/** What a checkpoint needs to restore an optimizer exactly. */
export interface OptimizerState {
  /** Slot tensors by name, e.g. `m/dense/kernel`. */
  tensors: Map<string, tf.Tensor>;
  /** Plain numbers such as the step count. */
  scalars: Record<string, number>;
}

/** Updates variables from their gradients. */
export interface Optimizer {
  readonly name: string;
  learningRate: number;
  /** One update: `params` and `grads` share their names. */
  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  /** The hyper-parameters, for run.json. */
  config(): Record<string, number | string>;
  dispose(): void;
}

abstract class SlotOptimizer implements Optimizer {
  abstract readonly name: string;
  protected slots = new Map<string, tf.Variable>();
  protected step = 0;

  constructor(public learningRate: number) {}

  abstract applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void;
  abstract config(): Record<string, number | string>;

  /** The slot `kind` (for example `m`) of variable `name`, created as zeros on first use. */
  protected slot(kind: string, name: string, like: tf.Tensor): tf.Variable {
    const key = `${kind}/${name}`;
    let v = this.slots.get(key);
    if (!v) {
      const zeros = tf.zerosLike(like);
      v = tf.variable(zeros, false);
      zeros.dispose(); // the variable alone owns its buffer (the fused WebGPU update writes in place)
      this.slots.set(key, v);
    }
    return v;
  }

  /** The parameters with a gradient, with their slots of `kinds`, for the fused WebGPU update. */
  protected fusedParams(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>, kinds: string[]) {
    const list: FusedParam[] = [];
    for (const [name, w] of params) {
      const g = grads[name];
      if (g) list.push({ w, g, slots: kinds.map((k) => this.slot(k, name, w)) });
    }
    return list;
  }

  getState(): OptimizerState {
    return { tensors: new Map(this.slots), scalars: { step: this.step } };
  }

  setState(state: OptimizerState): void {
    this.dispose();
    for (const [key, t] of state.tensors) this.slots.set(key, tf.variable(t, false));
    this.step = state.scalars.step ?? 0;
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}

/** Plain gradient descent: w ← w − η·∇w. */
export class GradientDescent extends SlotOptimizer {
  readonly name = 'sgd';

  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step++;
    tf.tidy(() => {
      for (const [name, w] of params) {
        const g = grads[name];
        if (g) w.assign(tf.sub(w, tf.mul(g, this.learningRate)));
      }
    });
  }

  config() {
    return { optimizer: this.name, learningRate: this.learningRate };
  }
}

/** SGD with momentum (PyTorch's form): v ← μ·v + ∇w; w ← w − η·v. */
export class Momentum extends SlotOptimizer {
  readonly name = 'momentum';

  constructor(
    learningRate: number,
    readonly momentum = 0.9,
  ) {
    super(learningRate);
  }

  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step++;
    tf.tidy(() => {
      for (const [name, w] of params) {
        const g = grads[name];
        if (!g) continue;
        const v = this.slot('v', name, w);
        v.assign(tf.add(tf.mul(v, this.momentum), g));
        w.assign(tf.sub(w, tf.mul(v, this.learningRate)));
      }
    });
  }

  config() {
    return { optimizer: this.name, learningRate: this.learningRate, momentum: this.momentum };
  }
}

/** Options of {@link Adam}; defaults are PyTorch's. */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (AdamW) when > 0: w ← w − η·λ·w before the Adam step. */
  weightDecay?: number;
}

/**
 * Adam: running means of the gradient (m) and of its square (v), bias-corrected, then
 * w ← w − η · m̂ / (√v̂ + ε). With `weightDecay` it is AdamW.
 */
export class Adam extends SlotOptimizer {
  readonly name: string;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(learningRate = 1e-3, options: AdamOptions = {}) {
    super(learningRate);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.name = this.weightDecay > 0 ? 'adamw' : 'adam';
  }

  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step++;
    const { beta1, beta2, epsilon, learningRate: lr } = this;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    if (fusedOptimizerActive()) {
      const decay = 1 - lr * this.weightDecay;
      const step = { kind: 'adam', lr, beta1, beta2, epsilon, decay, correction1, correction2 } as const;
      fusedOptimizerUpdate(this.fusedParams(params, grads, ['m', 'v']), step);
      return;
    }
    tf.tidy(() => {
      for (const [name, w] of params) {
        const g = grads[name];
        if (!g) continue;
        const m = this.slot('m', name, w);
        const v = this.slot('v', name, w);
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const mHat = tf.div(m, correction1);
        const vHat = tf.div(v, correction2);
        const decayed = this.weightDecay > 0 ? tf.mul(w, 1 - lr * this.weightDecay) : w;
        w.assign(tf.sub(decayed, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), epsilon)), lr)));
      }
    });
  }

  config() {
    return {
      optimizer: this.name,
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }
}

/** Options of {@link Lion}; defaults are lion-pytorch's, which the course's Lab 3 uses. */
export interface LionOptions {
  beta1?: number;
  beta2?: number;
  /** Decoupled weight decay: w ← w·(1 − η·λ) before the step. */
  weightDecay?: number;
}

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), the course's Lab 3
 * optimizer (`lion_pytorch.Lion`, lr 1e-4, betas (0.9, 0.99), weight decay 0). One momentum slot m:
 *   update = sign(β1·m + (1 − β1)·g);  w ← w·(1 − η·λ) − η·update;  m ← β2·m + (1 − β2)·g.
 * Every coordinate moves by exactly η (or 0), so its learning rate is ~3–10× smaller than Adam's.
 */
export class Lion extends SlotOptimizer {
  readonly name = 'lion';
  readonly beta1: number;
  readonly beta2: number;
  readonly weightDecay: number;

  constructor(learningRate = 1e-4, options: LionOptions = {}) {
    super(learningRate);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.99;
    this.weightDecay = options.weightDecay ?? 0;
  }

  applyGradients(params: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): void {
    this.step++;
    const { beta1, beta2, weightDecay, learningRate: lr } = this;
    if (fusedOptimizerActive()) {
      const step = { kind: 'lion', lr, beta1, beta2, decay: 1 - lr * weightDecay } as const;
      fusedOptimizerUpdate(this.fusedParams(params, grads, ['m']), step);
      return;
    }
    tf.tidy(() => {
      for (const [name, w] of params) {
        const g = grads[name];
        if (!g) continue;
        const m = this.slot('m', name, w);
        const update = tf.sign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        const decayed = weightDecay > 0 ? tf.mul(w, 1 - lr * weightDecay) : w;
        w.assign(tf.sub(decayed, tf.mul(update, lr)));
        m.assign(tf.add(tf.mul(m, beta2), tf.mul(g, 1 - beta2)));
      }
    });
  }

  config() {
    return {
      optimizer: this.name,
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      weightDecay: this.weightDecay,
    };
  }
}

/** Builds an optimizer by name, for command-line flags. */
export function makeOptimizer(name: string, learningRate: number): Optimizer {
  switch (name) {
    case 'sgd':
      return new GradientDescent(learningRate);
    case 'momentum':
      return new Momentum(learningRate);
    case 'adam':
      return new Adam(learningRate);
    case 'adamw':
      return new Adam(learningRate, { weightDecay: 0.01 });
    case 'lion':
      return new Lion(learningRate);
    default:
      throw new Error(`unknown optimizer "${name}": use sgd, momentum, adam, adamw or lion`);
  }
}
