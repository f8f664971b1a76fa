import * as tf from '@tensorflow/tfjs';
import {
  type CheckpointData,
  disposeCheckpoint,
  loadCheckpoint,
  resolveCheckpoint,
  restoreWeights,
  saveCheckpoint,
} from '../checkpoint/checkpoint.js';
import { BadFileError } from '../errors.js';
import type { EarlyStopping } from '../foundations/early-stopping.js';
import { allVariables, type Trainable } from '../foundations/layer.js';
import type { Optimizer } from '../foundations/optimizers.js';
import { Rng } from '../rng.js';
import { type RunFolder, truncateLog } from '../run/run-folder.js';
import { Progress, type ProgressOptions } from './progress.js';
import { optimizerStep } from './step.js';

/** What the loss function is told about the step it computes. */
export interface StepContext {
  step: number;
  /** Seeded randomness for dropout and other noise; saved in checkpoints. */
  rng: Rng;
  training: true;
}

/** Where batches come from: a function of the step (and the trainer's RNG, for random batches). */
export type BatchFn<B> = (step: number, rng: Rng) => B;

/** Options of {@link Trainer}. */
export interface TrainerOptions<B extends tf.TensorContainer> {
  model: Trainable;
  optimizer: Optimizer;
  /** The training loss of one batch. */
  loss: (batch: B, ctx: StepContext) => tf.Scalar;
  /** The batch for each step. Tensors in it are disposed after the step. */
  data: BatchFn<B> | { batch: BatchFn<B> };
  /** Total number of optimizer steps. */
  steps: number;
  /** Seeds the trainer's RNG (batch draws, dropout). */
  seed?: number;
  /** Validation: run `fn` every `every` steps and at the end; metric names such as `val_loss`. */
  /** May be async: on webgpu in Node values can only be read asynchronously (`await t.data()`). */
  validation?: { every: number; fn: () => Record<string, number> | Promise<Record<string, number>> };
  earlyStopping?: EarlyStopping;
  /** Save a checkpoint every this many steps (and always at the end) when `run` is given. */
  checkpointEvery?: number;
  run?: RunFolder;
  /** Saved with each checkpoint; a resume checks that the model's variables match. */
  config?: Record<string, unknown>;
  progress?: ProgressOptions['mode'];
  label?: string;
  /** Called after every step (after its checkpoint, if any). */
  onStep?: (step: number, loss: number) => void;
  /** Text appended to the progress line after each step (e.g. tokens/s and peak memory). */
  progressSuffix?: (step: number) => string;
  /** Values added to each step's log.jsonl entry (e.g. tokens, peak memory). */
  logExtra?: (step: number) => Record<string, number>;
}

/** One validation result. */
export interface ValidationRecord {
  step: number;
  [metric: string]: number;
}

/** What {@link Trainer.fit} returns. */
export interface TrainResult {
  /** The last step taken. */
  step: number;
  losses: { step: number; loss: number }[];
  validations: ValidationRecord[];
  stoppedEarly: boolean;
  /** The step whose weights the model holds at the end (the best one when early stopping restored). */
  weightsFromStep: number;
  seconds: number;
}

/**
 * The one training loop every lab uses: batches → loss → gradients → optimizer, with validation,
 * early stopping, a progress line, a JSONL log, atomic checkpoints and exact resume.
 *
 * Exact resume: the checkpoint holds weights, optimizer slots, the step and the RNG state, and
 * batches are a pure function of (step, RNG), so 50 steps + resume + 50 steps reproduces 100
 * straight steps bit for bit on a deterministic backend.
 */
export class Trainer<B extends tf.TensorContainer> {
  readonly rng: Rng;
  private readonly batchFn: BatchFn<B>;
  private step = 0;

  constructor(private readonly options: TrainerOptions<B>) {
    this.rng = new Rng(options.seed ?? 0);
    const data = options.data;
    this.batchFn = typeof data === 'function' ? data : (step, rng) => data.batch(step, rng);
  }

  /** Restores weights, optimizer, RNG, step and early-stopping state from a checkpoint or run folder. */
  resumeFrom(checkpoint: string): number {
    const dir = resolveCheckpoint(checkpoint);
    const data = loadCheckpoint(dir);
    try {
      restoreWeights(dir, data.weights, allVariables(this.options.model));
      if (data.optimizer) {
        if (data.optimizer.name !== this.options.optimizer.name) {
          throw new BadFileError(
            dir,
            `was trained with optimizer ${data.optimizer.name}, this run uses ${this.options.optimizer.name}`,
          );
        }
        this.options.optimizer.setState(data.optimizer.state);
      }
      if (data.rng) this.rng.setState(data.rng);
      if (data.extra && this.options.earlyStopping) {
        this.options.earlyStopping.setState(data.extra.json as Record<string, number | null>, data.extra.tensors);
      }
      this.step = data.step;
    } finally {
      disposeCheckpoint(data);
    }
    if (this.options.run) truncateLog(this.options.run.logPath, this.step);
    return this.step;
  }

  private async checkpoint(): Promise<string | undefined> {
    const run = this.options.run;
    if (!run) return undefined;
    const es = this.options.earlyStopping?.getState();
    const data: CheckpointData = {
      step: this.step,
      weights: allVariables(this.options.model),
      optimizer: {
        name: this.options.optimizer.name,
        config: this.options.optimizer.config(),
        state: this.options.optimizer.getState(),
      },
      rng: this.rng.getState(),
      config: this.options.config,
      extra: es && { json: es.json, tensors: es.tensors },
    };
    return saveCheckpoint(run.checkpointsDir, data);
  }

  /** Trains until `steps` (or early stopping), from the current step. */
  async fit(): Promise<TrainResult> {
    const { model, optimizer, loss, steps, validation, earlyStopping, run } = this.options;
    const variables = model.variables();
    const everything = allVariables(model);
    const progress = new Progress({ total: steps, label: this.options.label, mode: this.options.progress });
    const losses: TrainResult['losses'] = [];
    const validations: ValidationRecord[] = [];
    const t0 = performance.now();
    let stoppedEarly = false;
    const every = this.options.checkpointEvery ?? 0;

    while (this.step < steps) {
      const step = this.step + 1;
      const batch = this.batchFn(step, this.rng);
      const ctx: StepContext = { step, rng: this.rng, training: true };
      const lossTensor = optimizerStep(variables, optimizer, () => loss(batch, ctx));
      // Asynchronously: tfjs-webgpu cannot read synchronously in Node (its dataSync needs OffscreenCanvas).
      const lossValue = (await lossTensor.data())[0];
      lossTensor.dispose();
      tf.dispose(batch);
      this.step = step;
      if (!Number.isFinite(lossValue)) {
        run?.finish('failed', undefined, `loss became ${lossValue} at step ${step}`);
        throw new Error(`loss became ${lossValue} at step ${step}: lower the learning rate`);
      }
      losses.push({ step, loss: lossValue });
      const entry: Record<string, unknown> = {
        step,
        loss: lossValue,
        lr: optimizer.learningRate,
        elapsed: (performance.now() - t0) / 1000,
      };

      const validateNow = validation && (step % validation.every === 0 || step === steps);
      if (validateNow) {
        const metrics = await validation.fn();
        validations.push({ step, ...metrics });
        Object.assign(entry, metrics);
        progress.note(
          `step ${step}: ${Object.entries(metrics)
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join('  ')}`,
        );
        if (earlyStopping?.update(step, metrics, everything)) stoppedEarly = true;
      }
      const extra = this.options.logExtra?.(step);
      if (extra) Object.assign(entry, extra);
      run?.log(entry);
      progress.update(step, { loss: lossValue }, this.options.progressSuffix?.(step));
      if (!stoppedEarly && every > 0 && step % every === 0 && step < steps) await this.checkpoint();
      this.options.onStep?.(step, lossValue);
      if (stoppedEarly) break;
    }
    progress.done();

    let weightsFromStep = this.step;
    if (earlyStopping?.restore(everything)) {
      weightsFromStep = earlyStopping.bestStep;
      const why = stoppedEarly ? `early stopping at step ${this.step}` : `finished at step ${this.step}`;
      progress.note(
        `${why}; restored the best weights, from step ${weightsFromStep} (${earlyStopping.monitor} ${earlyStopping.best.toFixed(4)})`,
      );
    }
    await this.checkpoint();
    return {
      step: this.step,
      losses,
      validations,
      stoppedEarly,
      weightsFromStep,
      seconds: (performance.now() - t0) / 1000,
    };
  }
}
