import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  BadFlagError,
  type CommandGroup,
  type CommandSpec,
  intOption,
  numberOption,
  useBackend,
  useBackendForSampling,
} from '@introdl/core';
import { corpusStats, describeStats } from './actions/data-stats.js';
import { runEvaluate } from './actions/evaluate-run.js';
import { runGenerate, sampleSongs } from './actions/generate-run.js';
import { runIntro } from './actions/intro-run.js';
import { exportCommand } from './export/command.js';
import { runGenerateOnnx } from './export/generate-onnx.js';
import { loadMusicModel } from './model/checkpoint.js';
import { COURSE_MODEL, MusicModel } from './model/music-model.js';
import type { TrainingPreset } from './train/presets.js';
import { trainMusicModel } from './train/train.js';

/** A path under a run folder's outputs/, its folder created (as RunFolder.output does). */
function outputPath(runDir: string, ...parts: string[]): string {
  const p = path.join(runDir, 'outputs', ...parts);
  mkdirSync(path.dirname(p), { recursive: true });
  return p;
}

const dataOptions = [
  {
    flags: '--data <path>',
    description: 'an ABC file, or a folder holding irish.abc (default: INTRODL_DATA, the cache, then a download)',
  },
  { flags: '--no-download', description: 'never download the corpus' },
];

function requireCheckpoint(options: Record<string, unknown>): string {
  const checkpoint = options.checkpoint as string | undefined;
  if (!checkpoint)
    throw new BadFlagError(
      '--checkpoint is required: a run folder of `introdl lab1 train` or one of its checkpoints/<step>',
    );
  return checkpoint;
}

/** A number option that is only read when given (for --preset custom overrides). */
function optional(options: Record<string, unknown>, name: string, kind: 'int' | 'number'): number | undefined {
  if (options[name] === undefined) return undefined;
  return kind === 'int' ? intOption(options, name, 0) : numberOption(options, name, 0);
}

const data: CommandSpec = {
  name: 'data',
  description: 'the corpus: songs, characters, vocabulary, held-out split and how many songs are valid ABC',
  options: [{ flags: '--stats', description: 'print the corpus statistics (the default)' }, ...dataOptions],
  async run({ options, context }) {
    const stats = await corpusStats({
      path: options.data as string | undefined,
      download: options.download as boolean,
    });
    for (const line of describeStats(stats)) context.print(line);
    return 0;
  },
};

const model: CommandSpec = {
  name: 'model',
  description: 'the music model: Embedding → LSTM → Dense, its layers and parameter count',
  options: [
    { flags: '--summary', description: 'print the layer table and the parameter count (the default)' },
    { flags: '--vocab-size <n>', description: 'vocabulary size', default: String(COURSE_MODEL.vocabSize) },
    { flags: '--embedding-dim <n>', description: 'embedding size', default: String(COURSE_MODEL.embeddingDim) },
    { flags: '--units <n>', description: 'LSTM units', default: String(COURSE_MODEL.units) },
    { flags: '--checkpoint <dir>', description: 'summarise a trained model instead' },
  ],
  async run({ options, context }) {
    // Building 5 million weights needs a tfjs backend; the plain one is enough and prints no banner.
    await useBackend('cpu');
    const m = options.checkpoint
      ? loadMusicModel(options.checkpoint as string).model
      : new MusicModel({
          vocabSize: intOption(options, 'vocabSize', COURSE_MODEL.vocabSize),
          embeddingDim: intOption(options, 'embeddingDim', COURSE_MODEL.embeddingDim),
          units: intOption(options, 'units', COURSE_MODEL.units),
        });
    context.print(m.summary());
    m.dispose();
    return 0;
  },
};

const train: CommandSpec = {
  name: 'train',
  description: 'train the music model (presets: course = the course run, quick = 15 min on a 2-core CPU, custom)',
  usesBackend: true,
  options: [
    {
      flags: '--preset <name>',
      description: 'course | quick | custom',
      default: 'course',
      choices: ['course', 'quick', 'custom'],
    },
    { flags: '--steps <n>', description: '(custom) training iterations' },
    { flags: '--batch-size <n>', description: '(custom) sequences per batch' },
    { flags: '--seq-length <n>', description: '(custom) characters per sequence' },
    { flags: '--learning-rate <x>', description: '(custom) Adam learning rate' },
    { flags: '--embedding-dim <n>', description: '(custom) embedding size' },
    { flags: '--units <n>', description: '(custom) LSTM units' },
    { flags: '--checkpoint-every <n>', description: '(custom) steps between checkpoints' },
    { flags: '--validate-every <n>', description: '(custom) steps between held-out losses' },
    { flags: '--resume <run>', description: 'continue a run folder from its latest checkpoint' },
    { flags: '--held-out <fraction>', description: 'share of tunes held out for the validation loss', default: '0.1' },
    {
      flags: '--songs <chars>',
      description: 'characters to generate at the end, written as songs in the run (0: none)',
      default: '1000',
    },
    ...dataOptions,
  ],
  async run({ options, context }) {
    const songChars = intOption(options, 'songs', 1000);
    if (songChars < 0) throw new BadFlagError(`--songs must be 0 or more, got ${songChars}`);
    const overrides: Partial<TrainingPreset> = {
      steps: optional(options, 'steps', 'int'),
      batchSize: optional(options, 'batchSize', 'int'),
      seqLength: optional(options, 'seqLength', 'int'),
      learningRate: optional(options, 'learningRate', 'number'),
      embeddingDim: optional(options, 'embeddingDim', 'int'),
      units: optional(options, 'units', 'int'),
      checkpointEvery: optional(options, 'checkpointEvery', 'int'),
      validateEvery: optional(options, 'validateEvery', 'int'),
    };
    const heldOut = numberOption(options, 'heldOut', 0.1);
    if (!(heldOut > 0 && heldOut < 1)) throw new BadFlagError(`--held-out must be between 0 and 1, got ${heldOut}`);
    const summary = await trainMusicModel({
      preset: options.preset as string,
      overrides,
      seed: context.seed,
      out: context.out,
      resume: options.resume as string | undefined,
      dataPath: options.data as string | undefined,
      download: options.download as boolean,
      heldOutFraction: heldOut,
      backend: context.backend?.name,
      device: context.backend?.detail,
      log: context.log,
    });
    context.print(
      `trained ${summary.step} steps in ${(summary.seconds / 60).toFixed(1)} min: train loss ${summary.trainLoss.toFixed(4)}, held-out loss ${summary.heldOutLoss.toFixed(4)}`,
    );
    if (summary.plot) context.print(`loss plot: ${summary.plot}`);
    if (songChars > 0) {
      // Songs from the final weights, in the training run itself, so there is something to hear.
      const note = await useBackendForSampling();
      if (note) context.log(note);
      const loaded = loadMusicModel(summary.dir);
      try {
        const run = { dir: summary.dir, output: (...parts: string[]) => outputPath(summary.dir, ...parts) };
        const songs = await sampleSongs(loaded, run, {
          start: 'X',
          length: songChars,
          temperature: 1,
          seed: context.seed,
        });
        context.print(
          `songs: ${songs.valid} of ${songs.total} valid (${songs.percent.toFixed(0)}%), in ${path.join(summary.dir, 'outputs', 'songs')}`,
        );
      } finally {
        loaded.model.dispose();
      }
    }
    context.print(`run folder: ${summary.dir}`);
    return 0;
  },
};

const generate: CommandSpec = {
  name: 'generate',
  description: 'generate ABC text one character at a time, then write each valid song as .abc, .mid and .wav',
  usesBackend: true,
  options: [
    {
      flags: '--checkpoint <dir>',
      description: 'a run folder of `introdl lab1 train` (its latest checkpoint) or a checkpoints/<step> folder',
    },
    { flags: '--start <text>', description: 'the text to continue', default: 'X' },
    { flags: '--length <n>', description: 'characters to generate', default: '1000' },
    { flags: '--temperature <x>', description: 'sampling temperature (lower is more conservative)', default: '1.0' },
    { flags: '--sample-rate <hz>', description: 'sample rate of the .wav files', default: '22050' },
    {
      flags: '--runtime <name>',
      description: 'tfjs, or onnx: --checkpoint is then a folder from `introdl lab1 export`, run in onnxruntime-node',
      default: 'tfjs',
      choices: ['tfjs', 'onnx'],
    },
  ],
  async run({ options, context }) {
    const result = await (options.runtime === 'onnx' ? runGenerateOnnx : runGenerate)({
      checkpoint: requireCheckpoint(options),
      start: (options.start as string).replace(/\\n/g, '\n'),
      length: intOption(options, 'length', 1000),
      temperature: numberOption(options, 'temperature', 1),
      sampleRate: intOption(options, 'sampleRate', 22_050),
      seed: context.seed,
      out: context.out,
      backend: context.backend?.name,
      device: context.backend?.detail,
      stream: (s) => process.stdout.write(s),
      log: context.log,
    });
    context.log(
      `\nfound ${result.total} songs; ${result.valid} valid (${result.percent.toFixed(0)}%); ${result.charsPerSecond.toFixed(1)} chars/s`,
    );
    for (const s of result.songs) {
      context.log(
        `  song ${s.index}${s.title ? ` "${s.title}"` : ''}: ${s.valid ? `valid → ${s.files?.wav ?? s.audioError}` : `invalid: ${s.reason}`}`,
      );
    }
    context.log(`run folder: ${result.dir}`);
    return 0;
  },
};

const evaluate: CommandSpec = {
  name: 'evaluate',
  description: 'held-out loss per character, % valid songs over N samples at a fixed seed, and generation speed',
  usesBackend: true,
  options: [
    {
      flags: '--checkpoint <dir>',
      description: 'a run folder of `introdl lab1 train` or one of its checkpoints/<step>',
    },
    { flags: '--samples <n>', description: 'songs to sample', default: '10' },
    { flags: '--sample-length <n>', description: 'the most characters per sample', default: '1000' },
    { flags: '--temperature <x>', description: 'sampling temperature', default: '1.0' },
    ...dataOptions,
  ],
  async run({ options, context }) {
    const e = await runEvaluate({
      checkpoint: requireCheckpoint(options),
      samples: intOption(options, 'samples', 10),
      sampleLength: intOption(options, 'sampleLength', 1000),
      temperature: numberOption(options, 'temperature', 1),
      seed: context.seed,
      dataPath: options.data as string | undefined,
      download: options.download as boolean,
      out: context.out,
      backend: context.backend?.name,
      device: context.backend?.detail,
      log: context.log,
    });
    context.print(
      `held-out loss: ${e.heldOutLoss.toFixed(4)} nats per character (${e.heldOutChars.toLocaleString('en-US')} characters)`,
    );
    context.print(`valid songs: ${e.valid} of ${e.total} (${e.percent.toFixed(0)}%)`);
    for (const s of e.songs)
      context.print(
        `  sample ${s.index}${s.title ? ` "${s.title}"` : ''}: ${s.valid ? 'valid' : `invalid: ${s.reason}`}`,
      );
    context.print(`generation speed: ${e.charsPerSecond.toFixed(1)} characters per second`);
    context.print(`run folder: ${e.dir}`);
    return 0;
  },
};

const intro: CommandSpec = {
  name: 'intro',
  description: 'Part 1: run the framework exercises (tensors, graph, dense layer, models, autograd, gradient descent)',
  usesBackend: true,
  async run({ context }) {
    const r = await runIntro({
      seed: context.seed,
      out: context.out,
      backend: context.backend?.name,
      device: context.backend?.detail,
    });
    for (const line of r.lines) context.print(line);
    context.print(`run folder: ${r.dir}`);
    return 0;
  },
};

/** `introdl lab1 …`: the commands of Lab 1. */
export const commands: CommandGroup = {
  name: 'lab1',
  description: 'Lab 1: the framework intro and music generation with an LSTM',
  commands: [intro, data, model, train, generate, evaluate, exportCommand],
};
