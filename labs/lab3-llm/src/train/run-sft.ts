import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  Adam,
  BadFlagError,
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
import type { LoadedModel } from '../loaders/load-model.js';
import { saveAdapter } from '../lora/adapter-io.js';
import { applyLora, countParameters, formatTrainableParameters, loraLayers } from '../lora/lora.js';
import type { Projection } from '../model/config.js';
import { generateSync } from '../model/generate.js';
import { encodeText } from '../tokenizer/tokenizer.js';
import { GradientAccumulation } from './accumulate.js';
import { answerLoss, buildSequence, type SftBatch, SftBatches } from './sft.js';

/** Options of {@link runSft}. */
export interface SftRunOptions {
  lm: LoadedModel;
  pairs: StylePair[];
  template: ChatTemplate;
  /** Optimizer updates (each of `gradAccum` micro-batches). */
  steps: number;
  learningRate?: number;
  optimizer?: 'lion' | 'adamw';
  weightDecay?: number;
  lora?: { r?: number; alpha?: number; dropout?: number; targets?: Projection[] };
  batchSize?: number;
  gradAccum?: number;
  contextLength?: number;
  seed: number;
  /** The run folder (default runs/lab3/<timestamp>). */
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
  samples: { step: number; answer: string }[];
  seconds: number;
  secondsPerUpdate: number;
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
  if (options.resume && (!options.out || !existsSync(path.join(options.out, 'run.json')))) {
    throw new BadFlagError('--resume needs --out pointing at the run folder to continue');
  }

  const config = {
    model: options.lm.info.source,
    modelFormat: options.lm.info.format,
    parameters: options.lm.info.parameters,
    template: options.template.name,
    examples: options.pairs.length,
    steps: options.steps,
    learningRate: lr,
    optimizer: optimizerName,
    lora,
    batchSize,
    gradAccum,
    contextLength,
  };
  const run = RunFolder.create({
    lab: 'lab3',
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
  log(formatTrainableParameters(counts));

  const metricBefore = options.evalText ? yodaTestLoss(model, tokenizer, options.evalText).loss : undefined;
  if (metricBefore !== undefined) log(`before: ${formatYodaMetric(metricBefore)}`);

  const batches = new SftBatches(
    (i) => buildSequence(tokenizer, options.template, options.pairs[i], contextLength),
    options.pairs.length,
    batchSize,
    tokenizer.padId,
    options.seed,
  );
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
    const { ids } = encodeText(tokenizer, options.template.withoutAnswer(sampleQuestion));
    const out = generateSync(model, ids, { maxNewTokens: 32, temperature: 0, stopTokens: stops });
    let answer = tokenizer.decode(out.tokens, { skipSpecialTokens: true });
    const stop = options.template.stopText;
    if (stop && answer.includes(stop)) answer = answer.slice(0, answer.indexOf(stop));
    samples.push({ step: update, answer: answer.trim() });
    log(
      `update ${update}: mean loss ${(windowLoss / Math.max(1, windowCount)).toFixed(4)}; ${sampleQuestion} → ${answer.trim()}`,
    );
    windowLoss = 0;
    windowCount = 0;
  };
  const trainer = new Trainer<SftBatch>({
    model,
    optimizer,
    loss: (batch, ctx) => answerLoss(model, batch.ids, batch.mask, { training: true, rng: ctx.rng }),
    data: (step) => batches.batch(step),
    steps: options.steps * gradAccum,
    seed: options.seed,
    checkpointEvery: (options.checkpointEvery ?? 50) * gradAccum,
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
  if (options.resume) {
    const from = trainer.resumeFrom(run.dir);
    log(`resumed at micro-step ${from} (update ${from / gradAccum})`);
  }
  const t0 = performance.now();
  const result = await trainer.fit();
  const seconds = (performance.now() - t0) / 1000;

  const adapterDir = run.output('adapter');
  saveAdapter(model, adapterDir, options.lm.info.source);
  const metricAfter = options.evalText ? yodaTestLoss(model, tokenizer, options.evalText).loss : undefined;
  if (metricAfter !== undefined) log(`after: ${formatYodaMetric(metricAfter)}`);

  if (result.losses.length > 1) {
    await writeLossPlot(
      {
        title: 'Lab 3 fine-tuning: loss on the answer tokens',
        series: [{ name: 'train', points: result.losses.map((l) => ({ step: l.step, value: l.loss })) }],
      },
      run.output('loss'),
    );
  }
  const updates = result.losses.length / gradAccum;
  const summary = {
    trainable: counts.trainable,
    all: counts.all,
    finalLoss: result.losses.at(-1)?.loss,
    metricBefore,
    metricAfter,
    seconds,
    secondsPerUpdate: updates > 0 ? seconds / updates : 0,
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
    samples,
    seconds,
    secondsPerUpdate: summary.secondsPerUpdate,
  };
}
