import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  Adam,
  allVariables,
  BadFlagError,
  EarlyStopping,
  Lion,
  type Optimizer,
  RunFolder,
  Trainer,
  writeFileAtomicSync,
  writeLossPlot,
} from '@introdl/core';
import { type ChatTemplate, stopTokenIds } from '../chat/templates.js';
import type { StylePair } from '../data/readers.js';
import { formatYodaMetric, yodaTestLoss } from '../eval/metric.js';
import { LAB } from '../lab.js';
import type { LoadedModel } from '../loaders/load-model.js';
import { saveAdapter } from '../lora/adapter-io.js';
import { applyLora, countParameters, formatTrainableParameters, loraLayers } from '../lora/lora.js';
import type { Projection } from '../model/config.js';
import { generateSync } from '../model/generate.js';
import type { PackedRows } from '../model/llama.js';
import { encodeText } from '../tokenizer/tokenizer.js';
import { GradientAccumulation } from './accumulate.js';
import { blasThreadsForModel } from './blas-threads.js';
import { objectiveSequences, type SftObjective, validationLoss } from './objective.js';
import { PackedSftBatches } from './packing.js';
import { checkSchedule, type LearningRateSchedule, learningRateAt } from './schedule.js';
import { answerLoss, type SftBatch, SftBatches } from './sft.js';
import { peakRssBytes, StepMeter } from './step-meter.js';

/** Options of {@link runSft}. */
export interface SftRunOptions {
  lm: LoadedModel;
  pairs: StylePair[];
  template: ChatTemplate;
  /** Optimizer updates (each of `gradAccum` micro-batches). */
  steps: number;
  /** What each example teaches (default `answers`, the course's). */
  objective?: SftObjective;
  /** Examples held out of training: the validation loss is computed on them every `validateEvery` updates. */
  validation?: StylePair[];
  /** Updates between validations (default 100; the last update is always validated). */
  validateEvery?: number;
  /**
   * Early stopping on the validation loss: stop after this many validations without improvement and
   * keep the adapter of the best one (0 = train every update, still keeping the best adapter).
   */
  patience?: number;
  /** The peak learning rate (default 1e-4, the course's). */
  learningRate?: number;
  /** Warm-up and decay of the learning rate (default: constant, as the course). */
  schedule?: { kind: 'cosine' | 'constant'; warmup?: number; finalFraction?: number };
  optimizer?: 'lion' | 'adamw';
  weightDecay?: number;
  lora?: { r?: number; alpha?: number; dropout?: number; targets?: Projection[] };
  batchSize?: number;
  gradAccum?: number;
  contextLength?: number;
  /**
   * Pack several examples into each row of `contextLength` tokens (attention stays within each
   * example); `batchSize` then counts packed rows. Default false.
   */
  pack?: boolean;
  /** Recompute each layer in the backward pass instead of keeping its activations (less memory, ~⅓ more compute). */
  checkpointing?: boolean;
  seed: number;
  /** The run folder (default runs/lab3-llm/<timestamp>). */
  out?: string;
  /** Continue the run in `out` from its latest checkpoint. */
  resume?: boolean;
  /** Checkpoint (the adapter, optimizer and RNG) every this many updates. */
  checkpointEvery?: number;
  /** The Yoda passage: the competition metric is computed before and after training. */
  evalText?: string;
  /** Print a sample answer every this many updates, as the course does every 10. */
  sampleEvery?: number;
  sampleQuestion?: string;
  progress?: 'tty' | 'plain' | 'silent';
  command?: string;
  backend?: string;
  device?: string;
  log?: (message: string) => void;
}

/** What {@link runSft} reports. */
export interface SftRunResult {
  dir: string;
  adapterDir: string;
  trainable: number;
  all: number;
  losses: { step: number; loss: number }[];
  metricBefore?: number;
  metricAfter?: number;
  /** Each validation: the update, the validation loss and the metric on the eval text. */
  validations: { step: number; valLoss: number; metric?: number }[];
  /** The update whose adapter was saved (the best validation loss when validating). */
  bestStep: number;
  stoppedEarly: boolean;
  samples: { step: number; answer: string }[];
  seconds: number;
  secondsPerUpdate: number;
  /** Real (not padding) tokens per second of the training steps, validation excluded. */
  tokensPerSecond: number;
  /** The process's peak resident memory during the run. */
  peakMemoryBytes: number;
}

/** Builds the optimizer the course uses (Lion, lr 1e-4) or AdamW. */
export function makeSftOptimizer(name: string, learningRate: number, weightDecay = 0): Optimizer {
  if (name === 'lion') return new Lion(learningRate, { weightDecay });
  if (name === 'adamw') return new Adam(learningRate, { weightDecay: weightDecay || 0.01 });
  throw new BadFlagError(`unknown optimizer "${name}": use lion or adamw`);
}

/**
 * Supervised fine-tuning as in the course: LoRA on the chosen projections, each example the template
 * with the answer, the loss on the answer tokens only, Lion (or AdamW), sequences cut to the context
 * length. Adds right-padded batches and gradient accumulation. Runs through core's Trainer, so it
 * has the progress line, log.jsonl, checkpoints of the adapter and exact resume; the adapter is
 * saved in PEFT's format to `outputs/adapter/`.
 */
export async function runSft(options: SftRunOptions): Promise<SftRunResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const { model, tokenizer } = options.lm;
  const gradAccum = options.gradAccum ?? 1;
  const batchSize = options.batchSize ?? 1;
  const contextLength = Math.min(options.contextLength ?? 512, model.config.maxPositions);
  const lr = options.learningRate ?? 1e-4;
  const optimizerName = options.optimizer ?? 'lion';
  const objective = options.objective ?? 'answers';
  const validation = options.validation ?? [];
  const validateEvery = options.validateEvery ?? 100;
  const patience = options.patience ?? 0;
  const schedule: LearningRateSchedule = checkSchedule({
    kind: options.schedule?.kind ?? 'constant',
    peak: lr,
    warmup: Math.min(options.schedule?.warmup ?? 0, options.steps),
    total: options.steps,
    finalFraction: options.schedule?.finalFraction ?? 0,
  });
  const lora = {
    r: options.lora?.r ?? 8,
    alpha: options.lora?.alpha ?? 8,
    dropout: options.lora?.dropout ?? 0,
    targets:
      options.lora?.targets ??
      (['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as Projection[]),
  };
  if (!(options.steps > 0)) throw new BadFlagError('--steps must be positive');
  if (options.pairs.length === 0) throw new BadFlagError('no training examples');
  if (!(Number.isInteger(validateEvery) && validateEvery > 0)) throw new BadFlagError('--validate-every must be ≥ 1');
  if (options.resume && (!options.out || !existsSync(path.join(options.out, 'run.json')))) {
    throw new BadFlagError('--resume needs --out pointing at the run folder to continue');
  }

  const config = {
    model: options.lm.info.source,
    modelFormat: options.lm.info.format,
    parameters: options.lm.info.parameters,
    template: options.template.name,
    objective,
    examples: options.pairs.length,
    validationExamples: validation.length,
    steps: options.steps,
    learningRate: lr,
    schedule,
    optimizer: optimizerName,
    lora,
    batchSize,
    gradAccum,
    contextLength,
    validateEvery,
    patience,
    pack: options.pack ?? false,
    checkpointing: options.checkpointing ?? false,
    baseStorage: options.lm.info.storage ?? 'f32',
  };
  const run = RunFolder.create({
    lab: LAB,
    command: options.command ?? 'introdl lab3 train',
    config,
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.out,
    reuse: options.resume,
  });
  log(`run folder: ${run.dir}`);

  if (loraLayers(model).length > 0) {
    // The course trains the leprechaun-tuned model further on Yoda: keep training the loaded adapter.
    log(`continuing the loaded adapter (r=${loraLayers(model)[0].r}); --rank, --alpha and --targets are ignored`);
  } else {
    applyLora(model, {
      r: lora.r,
      alpha: lora.alpha,
      dropout: lora.dropout,
      targetModules: lora.targets,
      seed: options.seed,
    });
  }
  const counts = countParameters(model);
  if (blasThreadsForModel(model.config.hiddenSize)) log('OpenBLAS on 1 thread: faster for products this small');
  log(formatTrainableParameters(counts));

  const train = objectiveSequences(objective, tokenizer, options.template, options.pairs, contextLength);
  const batches = new SftBatches(train.build, train.size, batchSize, tokenizer.padId, options.seed);
  const packed = options.pack
    ? new PackedSftBatches(train.build, train.size, batchSize, tokenizer.padId, options.seed, contextLength)
    : undefined;
  // The packing layout of the current micro-batch (its tensors go to the Trainer, its arrays here).
  let packing: PackedRows | undefined;
  const meter = new StepMeter();
  const held = objectiveSequences(objective, tokenizer, options.template, validation, contextLength);
  const heldSequences = Array.from({ length: held.size }, (_, i) => held.build(i));
  const optimizer = new GradientAccumulation(makeSftOptimizer(optimizerName, lr, options.weightDecay), gradAccum);
  const samples: SftRunResult['samples'] = [];
  const sampleQuestion = options.sampleQuestion ?? 'What is the capital of France?';
  let windowLoss = 0;
  let windowCount = 0;
  const every = options.sampleEvery ?? 0;
  const stops = stopTokenIds(options.template, tokenizer, model.config.eosTokenIds);
  // The course prints a sample answer and the mean loss every 10 steps while training. The
  // Trainer's step callback is synchronous, hence generateSync.
  const sample = (update: number) => {
    const prompt = objective === 'style-text-only' ? '' : options.template.withoutAnswer(sampleQuestion);
    let ids = prompt ? encodeText(tokenizer, prompt).ids : [];
    if (ids.length === 0 && tokenizer.bosId !== undefined) ids = [tokenizer.bosId];
    const out = generateSync(model, ids, { maxNewTokens: 32, temperature: 0, stopTokens: stops });
    let answer = tokenizer.decode(out.tokens, { skipSpecialTokens: true });
    const stop = options.template.stopText;
    if (stop && answer.includes(stop)) answer = answer.slice(0, answer.indexOf(stop));
    samples.push({ step: update, answer: answer.trim() });
    const shown = objective === 'style-text-only' ? '(from BOS)' : sampleQuestion;
    log(
      `update ${update}: mean loss ${(windowLoss / Math.max(1, windowCount)).toFixed(4)}; ${shown} → ${answer.trim()}`,
    );
    windowLoss = 0;
    windowCount = 0;
  };
  // Validation: the loss on held-out examples (what early stopping watches) and, for the record
  // only, the metric on the eval text — never used to choose the adapter, since it is the test.
  const validate = () => {
    const t0 = performance.now();
    try {
      return validateMetrics();
    } finally {
      meter.exclude(performance.now() - t0);
    }
  };
  const validateMetrics = () => {
    const metrics: Record<string, number> = { val_loss: validationLoss(model, heldSequences, tokenizer.padId) };
    if (options.evalText) metrics.metric = yodaTestLoss(model, tokenizer, options.evalText).loss;
    return metrics;
  };
  const earlyStopping =
    heldSequences.length > 0
      ? new EarlyStopping({
          monitor: 'val_loss',
          patience: patience > 0 ? patience : Number.POSITIVE_INFINITY,
          restoreBestWeights: true,
        })
      : undefined;
  const trainer = new Trainer<SftBatch>({
    model,
    optimizer,
    loss: (batch, ctx) =>
      answerLoss(model, batch.ids, batch.mask, {
        training: true,
        rng: ctx.rng,
        checkpoint: options.checkpointing,
        packing,
      }),
    data: (step) => {
      // The schedule is a function of the update, so a resumed run follows it exactly.
      optimizer.learningRate = learningRateAt(schedule, Math.ceil(step / gradAccum));
      if (packed) {
        const p = packed.batch(step);
        packing = p.packing;
        meter.start(p.tokens);
        return p.batch;
      }
      const b = batches.batch(step);
      meter.start(batches.indices(step).reduce((n, i) => n + batches.sequence(i).ids.length, 0));
      return b;
    },
    progressSuffix: () => meter.text(),
    logExtra: () => {
      meter.end();
      return meter.values();
    },
    steps: options.steps * gradAccum,
    seed: options.seed,
    checkpointEvery: (options.checkpointEvery ?? 50) * gradAccum,
    validation: heldSequences.length > 0 ? { every: validateEvery * gradAccum, fn: validate } : undefined,
    earlyStopping,
    run,
    config,
    progress: options.progress,
    label: 'lab3 sft',
    onStep: (step, loss) => {
      windowLoss += loss;
      windowCount++;
      if (every > 0 && step % (every * gradAccum) === 0) sample(step / gradAccum);
    },
  });
  let metricBefore: number | undefined;
  const before: { step: number; valLoss: number; metric?: number }[] = [];
  if (options.resume) {
    const from = trainer.resumeFrom(run.dir);
    log(`resumed at micro-step ${from} (update ${from / gradAccum})`);
    const first = readFirstLogEntry(run.logPath);
    metricBefore = first?.metric;
    if (first?.val_loss !== undefined) before.push({ step: 0, valLoss: first.val_loss, metric: first.metric });
  } else if (earlyStopping) {
    // Update 0 is a candidate like any other: if no update beats the untuned model on the held-out
    // examples, the saved adapter is the zero one.
    const metrics = validate();
    earlyStopping.update(0, metrics, allVariables(model));
    run.log({ step: 0, ...metrics });
    metricBefore = metrics.metric;
    before.push({ step: 0, valLoss: metrics.val_loss, metric: metrics.metric });
    log(`update 0: val_loss ${metrics.val_loss.toFixed(4)}`);
  } else if (options.evalText) {
    metricBefore = yodaTestLoss(model, tokenizer, options.evalText).loss;
  }
  if (metricBefore !== undefined) log(`before: ${formatYodaMetric(metricBefore)}`);
  const t0 = performance.now();
  const result = await trainer.fit();
  const seconds = (performance.now() - t0) / 1000;
  const bestStep = Math.ceil(Math.max(0, result.weightsFromStep) / gradAccum);
  if (earlyStopping && result.weightsFromStep !== result.step) {
    log(`kept the adapter of update ${bestStep} (best validation loss ${earlyStopping.best.toFixed(4)})`);
  }

  const adapterDir = run.output('adapter');
  saveAdapter(model, adapterDir, options.lm.info.source);
  const metricAfter = options.evalText ? yodaTestLoss(model, tokenizer, options.evalText).loss : undefined;
  if (metricAfter !== undefined) log(`after: ${formatYodaMetric(metricAfter)}`);

  const validations = [
    ...before,
    ...result.validations.map((v) => ({
      step: Math.ceil(v.step / gradAccum),
      valLoss: v.val_loss,
      ...(v.metric !== undefined ? { metric: v.metric } : {}),
    })),
  ];
  await writeTrainingPlots(run, result.losses, validations, gradAccum, metricBefore);
  const updates = result.losses.length / gradAccum;
  const summary = {
    trainable: counts.trainable,
    all: counts.all,
    objective,
    finalLoss: result.losses.at(-1)?.loss,
    bestStep,
    bestValLoss: earlyStopping && Number.isFinite(earlyStopping.best) ? earlyStopping.best : undefined,
    stoppedEarly: result.stoppedEarly,
    updates: Math.ceil(result.step / gradAccum),
    metricBefore,
    metricAfter,
    seconds,
    secondsPerUpdate: updates > 0 ? seconds / updates : 0,
    tokensPerSecond: meter.tokensPerSecond(),
    peakMemoryBytes: peakRssBytes(),
    adapter: adapterDir,
  };
  writeFileAtomicSync(run.output('summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  run.finish('completed', summary);
  return {
    dir: run.dir,
    adapterDir,
    trainable: counts.trainable,
    all: counts.all,
    losses: result.losses,
    metricBefore,
    metricAfter,
    validations,
    bestStep,
    stoppedEarly: result.stoppedEarly,
    samples,
    seconds,
    secondsPerUpdate: summary.secondsPerUpdate,
    tokensPerSecond: summary.tokensPerSecond,
    peakMemoryBytes: summary.peakMemoryBytes,
  };
}

/**
 * `outputs/loss.{png,svg}`: the training loss (averaged over windows of updates, since single
 * sequences are noisy) and the validation loss; `outputs/metric.{png,svg}`: the metric on the eval
 * text against updates, with the base model's value at update 0.
 */
async function writeTrainingPlots(
  run: RunFolder,
  losses: readonly { step: number; loss: number }[],
  validations: readonly { step: number; valLoss: number; metric?: number }[],
  gradAccum: number,
  metricBefore: number | undefined,
): Promise<void> {
  if (losses.length < 2) return;
  const window = Math.max(gradAccum, Math.ceil(losses.length / 100));
  const smoothed: { step: number; value: number }[] = [];
  for (let i = 0; i < losses.length; i += window) {
    const part = losses.slice(i, i + window);
    smoothed.push({
      step: Math.ceil(part[part.length - 1].step / gradAccum),
      value: part.reduce((a, b) => a + b.loss, 0) / part.length,
    });
  }
  await writeLossPlot(
    {
      title: 'Lab 3 fine-tuning: loss on the trained tokens',
      xLabel: 'update',
      series: [
        { name: `train (mean of ${window / gradAccum} updates)`, points: smoothed },
        ...(validations.length
          ? [{ name: 'validation', points: validations.map((v) => ({ step: v.step, value: v.valLoss })) }]
          : []),
      ],
    },
    run.output('loss'),
  );
  const metric = validations.filter((v) => v.metric !== undefined);
  if (metric.length > 0) {
    await writeLossPlot(
      {
        title: 'Yoda-passage metric (mean NLL per token; reported, never used to stop)',
        xLabel: 'update',
        yLabel: 'metric',
        series: [
          {
            name: 'metric',
            points: [
              ...(metricBefore !== undefined && metric[0]?.step !== 0 ? [{ step: 0, value: metricBefore }] : []),
              ...metric.map((v) => ({ step: v.step, value: v.metric as number })),
            ],
          },
        ],
      },
      run.output('metric'),
    );
  }
}

/** The first entry of a run's log.jsonl (update 0's validation, when the run validated). */
function readFirstLogEntry(logPath: string): Record<string, number> | undefined {
  try {
    const first = readFileSync(logPath, 'utf8').split('\n', 1)[0];
    const entry = JSON.parse(first) as Record<string, number>;
    return entry.step === 0 ? entry : undefined;
  } catch {
    return undefined;
  }
}
