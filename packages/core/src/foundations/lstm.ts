import * as tf from '@tensorflow/tfjs';
import { assertShape, BadShapeError, IntrodlError } from '../errors.js';
import { lstmSequenceFused } from '../kernels/lstm/fused.js';
import { lstmSequencePlain, projectInputs } from '../kernels/lstm/plain.js';
import { lstmStepProjected } from '../kernels/lstm/step.js';
import type { LstmSequenceResult, LstmState, LstmWeights } from '../kernels/lstm/types.js';
import { Rng } from '../rng.js';
import { glorotUniform } from './initializers.js';
import { type ApplyOptions, Layer } from './layer.js';

/** Options of {@link LSTM}. */
export interface LSTMOptions {
  /** Size of each input vector (the last axis of x). */
  inputs: number;
  /** Number of units: the size of h and c. */
  units: number;
  /** Seeds the Glorot-uniform kernel and recurrent kernel. */
  rng?: Rng;
  name?: string;
  /**
   * Use the fused sequence op with its hand-written backward pass (default). `false`, or the
   * environment variable `INTRODL_FUSED=0`, runs the plain per-step tfjs ops instead.
   */
  fused?: boolean;
}

/**
 * A long short-term memory layer, as Keras' `LSTM(units, return_sequences=True)` with the settings
 * of the course's model: gate order (i, f, c, o), sigmoid recurrent activation, tanh activation,
 * Glorot-uniform kernel and recurrent kernel, zero bias with the forget gate's bias at 1.
 *
 *   z = x·kernel + h·recurrent_kernel + bias = [z_i | z_f | z_c | z_o]
 *   c' = σ(z_f)·c + σ(z_i)·tanh(z_c);   h' = σ(z_o)·tanh(c')
 *
 * `apply` runs a whole sequence (training), `run` also takes and returns the state, `step` advances
 * one time step without a gradient tape (generation).
 */
export class LSTM extends Layer {
  readonly kernel: tf.Variable;
  readonly recurrentKernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly inputs: number;
  readonly units: number;
  private readonly fusedOption: boolean;

  constructor(options: LSTMOptions) {
    super(options.name ?? 'lstm');
    for (const key of ['inputs', 'units'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v < 1) throw new IntrodlError(`LSTM ${key} must be a positive integer, got ${v}`);
    }
    this.inputs = options.inputs;
    this.units = options.units;
    this.fusedOption = options.fused ?? true;
    const rng = options.rng ?? new Rng(0);
    const u = this.units;
    this.kernel = tf.variable(glorotUniform([this.inputs, 4 * u], rng), true);
    // Glorot, not Keras' orthogonal default: the course sets it, and tfjs' orthogonal init crashes on wasm at 1024.
    this.recurrentKernel = tf.variable(glorotUniform([u, 4 * u], rng), true);
    const bias = new Float32Array(4 * u);
    bias.fill(1, u, 2 * u); // unit forget bias
    this.bias = tf.variable(tf.tensor1d(bias), true);
  }

  /** Whether sequences go through the fused op: the `fused` option, unless `INTRODL_FUSED=0`. */
  get fused(): boolean {
    return this.fusedOption && process.env.INTRODL_FUSED !== '0';
  }

  private weights(): LstmWeights {
    return {
      kernel: this.kernel as tf.Tensor as tf.Tensor2D,
      recurrentKernel: this.recurrentKernel as tf.Tensor as tf.Tensor2D,
      bias: this.bias as tf.Tensor as tf.Tensor1D,
    };
  }

  /** h and c of zeros for a batch: the state a sequence starts from. */
  initialState(batch: number): LstmState {
    return { h: tf.zeros([batch, this.units]), c: tf.zeros([batch, this.units]) };
  }

  private checkState(state: LstmState, batch: number): void {
    assertShape(`${this.name} state h`, state.h.shape, [batch, this.units]);
    assertShape(`${this.name} state c`, state.c.shape, [batch, this.units]);
  }

  /** The outputs (h of every step, [batch, time, units]) for x [batch, time, inputs], from a zero state. */
  apply(x: tf.Tensor, _options?: ApplyOptions): tf.Tensor3D {
    return tf.tidy(() => this.run(x).outputs);
  }

  /**
   * Runs the sequence x [batch, time, inputs] from `state` (zeros when absent) and returns every
   * step's h and the final state, so a caller can carry state across calls. Differentiable.
   */
  run(x: tf.Tensor, state?: LstmState): LstmSequenceResult {
    const [, time, inputs] = x.shape;
    if (x.rank !== 3 || inputs !== this.inputs || time === undefined || time < 1) {
      throw new BadShapeError(`${this.name} input`, `[batch, time ≥ 1, ${this.inputs}]`, x.shape);
    }
    const batch = x.shape[0];
    if (state) this.checkState(state, batch);
    return tf.tidy(() => {
      const initial = state ?? this.initialState(batch);
      const x3 = x as tf.Tensor3D;
      const result = this.fused
        ? lstmSequenceFused(x3, this.weights(), initial)
        : lstmSequencePlain(x3, this.weights(), initial);
      return { outputs: result.outputs, state: { h: result.state.h, c: result.state.c } };
    });
  }

  /** x·kernel + bias for rows x [N, inputs]: the input's share of the gates, [N, 4·units]. */
  projectInputs(x: tf.Tensor2D): tf.Tensor2D {
    assertShape(`${this.name} input`, x.shape, [null, this.inputs]);
    return projectInputs(x, this.weights());
  }

  /**
   * One time step from xt [batch, inputs] and the state (zeros when absent) to the next state, with no
   * gradient tape: for generating one token at a time. The caller disposes the states.
   */
  step(xt: tf.Tensor2D, state?: LstmState): LstmState {
    assertShape(`${this.name} step input`, xt.shape, [null, this.inputs]);
    const zx = this.projectInputs(xt);
    try {
      return this.stepProjected(zx, state);
    } finally {
      zx.dispose();
    }
  }

  /**
   * {@link step} from a precomputed input projection zx = x·kernel + bias ([batch, 4·units]). When the
   * input is an Embedding, project the whole table once (`projectInputs(embedding.embeddings)`) and
   * gather rows of it: each step is then one matmul (h·recurrent_kernel) instead of two.
   */
  stepProjected(zx: tf.Tensor2D, state?: LstmState): LstmState {
    assertShape(`${this.name} projected input`, zx.shape, [null, 4 * this.units]);
    const batch = zx.shape[0];
    if (state) {
      this.checkState(state, batch);
      return lstmStepProjected(zx, this.recurrentKernel as tf.Tensor as tf.Tensor2D, state);
    }
    const zeros = this.initialState(batch);
    try {
      return lstmStepProjected(zx, this.recurrentKernel as tf.Tensor as tf.Tensor2D, zeros);
    } finally {
      tf.dispose([zeros.h, zeros.c]);
    }
  }

  override variables(): Map<string, tf.Variable> {
    return new Map([
      ['kernel', this.kernel],
      ['recurrent_kernel', this.recurrentKernel],
      ['bias', this.bias],
    ]);
  }

  outputShape(inputShape: (number | null)[]): (number | null)[] {
    return [...inputShape.slice(0, -1), this.units];
  }
}
