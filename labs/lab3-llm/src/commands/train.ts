import { BadFlagError, type CommandSpec } from '@introdl/core';
import { chooseTemplate } from '../chat/templates.js';
import { loadStyleData, STYLE_DATA_NAMES } from '../data/training-data.js';
import { formatYodaMetric } from '../eval/metric.js';
import { AUTO_CHECKPOINT_MIN_PARAMETERS } from '../loaders/hf-model.js';
import { parseTargets } from '../lora/lora.js';
import { parseObjective, SFT_OBJECTIVES } from '../train/objective.js';
import { runSft } from '../train/run-sft.js';
import {
  boundedNumber,
  loadFromOptions,
  MODEL_OPTIONS,
  optionalYodaTestText,
  positiveInt,
  requiredString,
  TEMPLATE_OPTION,
} from './shared.js';

/**
 * The default recipe's learning rates. Tuned on stories260K by the validation loss of held-out Yoda
 * examples (docs/lab3.md): a 260K-parameter model's adapter wants far larger steps than a billion-
 * parameter model's, where the course's Lion 1e-4 (and AdamW 2e-4, its usual equivalent) hold.
 */
export const SMALL_MODEL_PARAMETERS = 10e6;
export const SMALL_MODEL_LR = { adamw: 5e-3, lion: 1e-3 } as const;
export const LARGE_MODEL_LR = { adamw: 2e-4, lion: 1e-4 } as const;

/** The default peak learning rate for an optimizer and a model size. */
export function defaultLearningRate(optimizer: 'adamw' | 'lion', parameters: number): number {
  return (parameters < SMALL_MODEL_PARAMETERS ? SMALL_MODEL_LR : LARGE_MODEL_LR)[optimizer];
}

/** `introdl lab3 train`: LoRA fine-tuning for style, as the course's train(). */
export const trainCommand: CommandSpec = {
  name: 'train',
  description:
    'fine-tune a model for a style with LoRA (validation, early stopping, warm-up and decay), and save the best adapter',
  usesBackend: true,
  options: [
    ...MODEL_OPTIONS,
    {
      flags: '--data <name|path>',
      description: `${STYLE_DATA_NAMES.join(' | ')} | a .csv/.jsonl/.txt file`,
      default: 'yoda',
    },
    {
      flags: '--dolly <file>',
      description:
        "dolly-15k as JSON Lines for --data yoda/leprechaun (default: the course data's first-2048 instructions file)",
    },
    { flags: '--with-context', description: "append each dolly row's context to its instruction" },
    {
      flags: '--objective <kind>',
      description:
        'answers (the course: loss on the templated answer), style-text-only (causal LM on the styled text packed as in pre-training, no questions) or answers+style-text (both)',
      default: 'answers+style-text',
      choices: [...SFT_OBJECTIVES],
    },
    {
      flags: '--column <name>',
      description: 'yoda_sentences.csv column: translation or translation_extra',
      default: 'translation',
    },
    { flags: '--limit <n>', description: 'use only the first n training examples' },
    TEMPLATE_OPTION,
    { flags: '--steps <n>', description: 'optimizer updates (the 2026 course: 200)', default: '1500' },
    {
      flags: '--lr <rate>',
      description: `peak learning rate (default: AdamW ${SMALL_MODEL_LR.adamw} / Lion ${SMALL_MODEL_LR.lion} below ${SMALL_MODEL_PARAMETERS / 1e6}M parameters, else AdamW ${LARGE_MODEL_LR.adamw} / Lion ${LARGE_MODEL_LR.lion}, the course's)`,
    },
    {
      flags: '--schedule <kind>',
      description: 'cosine (warm-up, then decay to --final-lr) or constant (the course)',
      default: 'cosine',
      choices: ['cosine', 'constant'],
    },
    {
      flags: '--warmup <n>',
      description: 'updates of linear learning-rate warm-up (default: 5% of --steps, at most 50)',
    },
    {
      flags: '--final-lr <f>',
      description: 'the learning rate at the last update, as a fraction of --lr',
      default: '0.1',
    },
    {
      flags: '--held-out <f>',
      description: 'fraction of the examples held out for the validation loss (at most 100 examples)',
      default: '0.1',
    },
    { flags: '--validate-every <n>', description: 'updates between validations (default: a tenth of --steps)' },
    {
      flags: '--patience <n>',
      description: 'stop after n validations without a lower validation loss (0 = never); the best adapter is kept',
      default: '3',
    },
    {
      flags: '--optimizer <name>',
      description: 'adamw or lion (the course)',
      default: 'adamw',
      choices: ['lion', 'adamw'],
    },
    { flags: '--weight-decay <w>', description: 'decoupled weight decay (AdamW default 0.01, Lion 0)' },
    { flags: '--rank <r>', description: 'LoRA rank', default: '8' },
    { flags: '--alpha <a>', description: 'LoRA alpha (update scaled by alpha/r)', default: '8' },
    { flags: '--lora-dropout <p>', description: 'dropout on the LoRA input', default: '0' },
    { flags: '--targets <list>', description: 'projections: q,k,v,o,gate,up,down or all', default: 'all' },
    { flags: '--batch-size <n>', description: 'sequences per micro-batch (the course: 1)', default: '1' },
    { flags: '--grad-accum <n>', description: 'micro-batches per update', default: '1' },
    { flags: '--context-length <n>', description: 'tokens per sequence (longer ones are cut)', default: '512' },
    {
      flags: '--pack',
      description:
        'pack several examples into each row of --context-length tokens (attention stays within each example)',
    },
    {
      flags: '--checkpointing <when>',
      description:
        'recompute each layer in the backward pass instead of keeping its activations (a fraction of the memory): auto (on from 20M parameters), on, off',
      default: 'auto',
      choices: ['auto', 'on', 'off'],
    },
    { flags: '--checkpoint-every <n>', description: 'updates between checkpoints of the adapter', default: '50' },
    {
      flags: '--sample-every <n>',
      description: 'print a sample answer every n updates (0 = never; the course: 10)',
      default: '100',
    },
    {
      flags: '--eval-text <file>',
      description: 'passage for the metric before/after (default yoda_test_text.txt when found)',
    },
    { flags: '--resume', description: 'continue the run in --out from its latest checkpoint' },
  ],
  async run({ options, context }) {
    requiredString(options, 'model');
    const steps = positiveInt(options, 'steps', 200);
    const column = String(options.column ?? 'translation');
    if (column !== 'translation' && column !== 'translation_extra')
      throw new BadFlagError('--column must be translation or translation_extra');
    const objective = parseObjective(String(options.objective ?? 'answers+style-text'));
    const optimizer = options.optimizer === 'lion' ? 'lion' : 'adamw';
    // yoda_sentences (the file's name) works as well as yoda-sentences
    const rawData = String(options.data ?? 'yoda');
    const dataName = (STYLE_DATA_NAMES as readonly string[]).includes(rawData.replace(/_/g, '-'))
      ? rawData.replace(/_/g, '-')
      : rawData;
    const data = await loadStyleData(dataName, {
      dolly: options.dolly as string | undefined,
      withContext: Boolean(options.withContext),
      questions: objective !== 'style-text-only',
      column,
      seed: context.seed,
      heldOutFraction: boundedNumber(options, 'heldOut', 0.1, 0, 0.5),
    });
    const limit = options.limit === undefined ? data.pairs.length : positiveInt(options, 'limit', data.pairs.length);
    const pairs = data.pairs.slice(0, limit);
    context.log(
      `data: ${data.description}; training on ${pairs.length} examples, ${data.validation.length} held out for validation`,
    );
    const lm = await loadFromOptions(options, context);
    const lr = boundedNumber(options, 'lr', defaultLearningRate(optimizer, lm.info.parameters), 0, 10);
    const template = chooseTemplate(String(options.template ?? 'auto'), lm.tokenizer);
    const evalText = await optionalYodaTestText(options.evalText as string | undefined);
    if (!evalText)
      context.log('yoda_test_text.txt not found (INTRODL_DATA/lab3-llm or --eval-text): no before/after metric');
    const result = await runSft({
      lm,
      pairs,
      template,
      steps,
      objective,
      validation: data.validation,
      validateEvery: positiveInt(options, 'validateEvery', Math.max(1, Math.round(steps / 10))),
      patience: positiveInt(options, 'patience', 3, 0),
      learningRate: lr,
      schedule: {
        kind: options.schedule === 'constant' ? 'constant' : 'cosine',
        warmup: positiveInt(options, 'warmup', Math.min(50, Math.round(steps * 0.05)), 0),
        finalFraction: boundedNumber(options, 'finalLr', 0.1, 0, 1),
      },
      optimizer,
      weightDecay: options.weightDecay === undefined ? undefined : boundedNumber(options, 'weightDecay', 0, 0, 1),
      lora: {
        r: positiveInt(options, 'rank', 8),
        alpha: boundedNumber(options, 'alpha', 8, 0),
        dropout: boundedNumber(options, 'loraDropout', 0, 0, 0.99),
        targets: parseTargets(String(options.targets ?? 'all')),
      },
      batchSize: positiveInt(options, 'batchSize', 1),
      gradAccum: positiveInt(options, 'gradAccum', 1),
      contextLength: positiveInt(options, 'contextLength', 512, 2),
      pack: Boolean(options.pack),
      checkpointing:
        options.checkpointing === 'on' ||
        (options.checkpointing !== 'off' && lm.info.parameters >= AUTO_CHECKPOINT_MIN_PARAMETERS),
      checkpointEvery: positiveInt(options, 'checkpointEvery', 50),
      sampleEvery: positiveInt(options, 'sampleEvery', 100, 0),
      evalText: evalText?.text,
      seed: context.seed,
      out: context.out,
      resume: Boolean(options.resume),
      command: 'introdl lab3 train',
      backend: context.backend?.name,
      device: context.backend?.detail,
      log: context.log,
    });
    context.print(`adapter: ${result.adapterDir}`);
    if (result.metricBefore !== undefined) context.print(`before tuning: ${formatYodaMetric(result.metricBefore)}`);
    if (result.metricAfter !== undefined) context.print(`after tuning:  ${formatYodaMetric(result.metricAfter)}`);
    context.print(
      `${result.secondsPerUpdate.toFixed(2)} s per update; ${result.tokensPerSecond.toFixed(0)} tokens/s; ` +
        `peak memory ${(result.peakMemoryBytes / 1e9).toFixed(2)} GB; final loss ${result.losses.at(-1)?.loss.toFixed(4)}`,
    );
    lm.model.dispose();
    return 0;
  },
};
