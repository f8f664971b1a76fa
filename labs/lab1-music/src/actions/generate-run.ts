import { Rng, RunFolder, useBackendForSampling, writeFileAtomic } from '@introdl/core';
import { extractSongSnippets } from '../data/songs.js';
import { LAB, type LoadedMusicModel, loadMusicModel } from '../model/checkpoint.js';
import { type Generated, type GenerateOptions, generateText } from '../model/generate.js';
import { checkAndWriteSongs, type SongsReport, songsMarkdown, writeReport } from './songs-report.js';

/** Options of {@link runGenerate}. */
export interface GenerateRunOptions {
  checkpoint: string;
  start?: string;
  length?: number;
  temperature?: number;
  seed: number;
  out?: string;
  sampleRate?: number;
  backend?: string;
  device?: string;
  /** Receives the text as it is generated (the CLI streams it to stdout). */
  stream?: (text: string) => void;
  log?: (message: string) => void;
}

/** What a generation run produced. */
export interface GenerateRunSummary extends SongsReport {
  dir: string;
  text: string;
  charsPerSecond: number;
}

/** {@link GenerateRunOptions} with their defaults: start `X`, 1,000 characters, temperature 1, log to stderr. */
export function generateSettings(options: GenerateRunOptions) {
  return {
    log: options.log ?? ((m: string) => process.stderr.write(`${m}\n`)),
    start: options.start ?? 'X',
    length: options.length ?? 1000,
    temperature: options.temperature ?? 1,
  };
}

/** Marks a generation run completed with what {@link sampleSongs} produced, and returns its summary. */
export function completeGenerateRun(run: RunFolder, result: SampledSongs): GenerateRunSummary {
  run.finish('completed', {
    chars: result.chars,
    charsPerSecond: result.charsPerSecond,
    songs: result.total,
    valid: result.valid,
    percentValid: result.percent,
  });
  return { dir: run.dir, ...result };
}

/**
 * Loads a checkpoint, generates text one character at a time (streamed as it comes), extracts the
 * songs by the course's rule, checks each, and writes every valid one as .abc, .mid and .wav under
 * the run folder's outputs/songs/, with a report (songs.json, songs.md) and the raw text.
 */
export async function runGenerate(options: GenerateRunOptions): Promise<GenerateRunSummary> {
  const { log, start, length, temperature } = generateSettings(options);
  const note = await useBackendForSampling();
  if (note) log(note);
  const loaded = loadMusicModel(options.checkpoint);
  try {
    // Check the start string before a run folder exists, so a bad flag leaves nothing behind.
    generateText(loaded.model, loaded.vocab, { start, length: 0, rng: new Rng(0), temperature });
    const run = RunFolder.create({
      lab: LAB,
      command: 'introdl lab1 generate',
      config: { checkpoint: loaded.dir, step: loaded.step, start, length, temperature, model: loaded.config.model },
      seed: options.seed,
      backend: options.backend,
      device: options.device,
      out: options.out,
    });
    log(`model from ${loaded.dir} (step ${loaded.step}); run folder ${run.dir}`);
    const result = await sampleSongs(loaded, run, {
      start,
      length,
      temperature,
      seed: options.seed,
      sampleRate: options.sampleRate,
      stream: options.stream,
    });
    return completeGenerateRun(run, result);
  } finally {
    loaded.model.dispose();
  }
}

/** Options of {@link sampleSongs}. */
export interface SampleSongsOptions {
  start: string;
  length: number;
  temperature: number;
  seed: number;
  sampleRate?: number;
  stream?: (text: string) => void;
  /** Generates with another runtime (an ONNX export) instead of `loaded.model`. */
  generate?: (options: GenerateOptions) => Promise<Generated>;
}

/** What {@link sampleSongs} returns: the run's summary but its folder, and the characters generated. */
export type SampledSongs = Omit<GenerateRunSummary, 'dir'> & { chars: number };

/**
 * Generates text from a loaded model, extracts the songs, checks each and writes the valid ones as
 * .abc, .mid and .wav under `run`'s outputs/songs/ with songs.json and songs.md, plus the raw text.
 * `generate` calls it in a run folder of its own; `train` calls it in the training run's folder so
 * a fresh training run already has songs to listen to.
 */
export async function sampleSongs(
  loaded: Pick<LoadedMusicModel, 'dir' | 'step'> & Partial<LoadedMusicModel>,
  run: Pick<RunFolder, 'dir' | 'output'>,
  options: SampleSongsOptions,
): Promise<SampledSongs> {
  const { start, length, temperature, seed } = options;
  options.stream?.(start);
  const textOptions = { start, length, temperature, rng: new Rng(seed), onChar: options.stream };
  const generated = options.generate
    ? await options.generate(textOptions)
    : generateText(loaded.model as LoadedMusicModel['model'], loaded.vocab as LoadedMusicModel['vocab'], textOptions);
  options.stream?.('\n');
  await writeFileAtomic(run.output('generated.txt'), generated.text);
  const songs = extractSongSnippets(generated.text);
  const report = await checkAndWriteSongs(songs, run.output('songs'), run.dir, { sampleRate: options.sampleRate });
  const charsPerSecond = generated.generated / generated.seconds;
  await writeReport(
    run.output('songs'),
    { checkpoint: loaded.dir, step: loaded.step, start, length, temperature, seed, charsPerSecond, ...report },
    songsMarkdown(`Songs generated from step ${loaded.step} (seed ${seed}, temperature ${temperature})`, report),
  );
  return { text: generated.text, chars: generated.generated, charsPerSecond, ...report };
}
