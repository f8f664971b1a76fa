import { BadFileError, Rng, RunFolder, writeFileAtomic } from '@introdl/core';
import { loadCorpus } from '../data/dataset.js';
import { extractSongSnippets, joinSongs } from '../data/songs.js';
import { splitSongs } from '../data/split.js';
import { Vocabulary, vectorize } from '../data/vocab.js';
import { LAB, loadMusicModel } from '../model/checkpoint.js';
import { endsFirstSong, generateText } from '../model/generate.js';
import { heldOutLoss } from '../model/held-out.js';
import { checkAndWriteSongs, type SongsReport, songsMarkdown, writeReport } from './songs-report.js';

/** Options of {@link runEvaluate}. */
export interface EvaluateRunOptions {
  checkpoint: string;
  /** How many songs to sample. */
  samples?: number;
  /** The most characters generated per sample. */
  sampleLength?: number;
  temperature?: number;
  seed: number;
  dataPath?: string;
  download?: boolean;
  out?: string;
  backend?: string;
  device?: string;
  log?: (message: string) => void;
}

/** The three numbers of an evaluation, with the songs behind the second. */
export interface Evaluation extends SongsReport {
  dir: string;
  step: number;
  /** Mean negative log-likelihood per held-out character, in nats. */
  heldOutLoss: number;
  heldOutChars: number;
  /** Generated characters per second (sampling only, one character at a time). */
  charsPerSecond: number;
}

/**
 * Evaluates a checkpoint: the held-out loss (mean NLL per character over the tunes the run held
 * out), the share of valid songs among `samples` songs sampled at a fixed seed (each from "X" until
 * its first blank line, the course's end of a song, or `sampleLength` characters), and the speed
 * of generation. Each sample's raw text is kept as outputs/samples/sample-NN.txt, and each valid
 * song as .abc, .mid and .wav beside it.
 */
export async function runEvaluate(options: EvaluateRunOptions): Promise<Evaluation> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const samples = options.samples ?? 10;
  const sampleLength = options.sampleLength ?? 1000;
  const temperature = options.temperature ?? 1;
  const loaded = loadMusicModel(options.checkpoint);
  try {
    const corpus = await loadCorpus({ path: options.dataPath, download: options.download });
    const vocab = Vocabulary.fromText(joinSongs(corpus.songs));
    if (!vocab.equals(loaded.vocab)) {
      throw new BadFileError(
        loaded.dir,
        `was trained on another vocabulary (${loaded.vocab.size} characters) than ${corpus.file} has (${vocab.size}); evaluate it on its own corpus with --data`,
      );
    }
    const split = splitSongs(corpus.songs, loaded.config.heldOutFraction, loaded.config.splitSeed);
    const run = RunFolder.create({
      lab: LAB,
      command: 'introdl lab1 evaluate',
      config: { checkpoint: loaded.dir, step: loaded.step, samples, sampleLength, temperature, corpus: corpus.file },
      seed: options.seed,
      backend: options.backend,
      device: options.device,
      out: options.out,
    });
    log(`model from ${loaded.dir} (step ${loaded.step}); run folder ${run.dir}`);
    const heldOutVec = vectorize(joinSongs(split.heldOut), vocab);
    const held = await heldOutLoss(loaded.model, heldOutVec, { seqLength: loaded.config.seqLength });
    log(`held-out loss ${held.loss.toFixed(4)} nats/char over ${held.chars.toLocaleString('en-US')} characters`);

    const rng = new Rng(options.seed);
    const songs: (string | undefined)[] = [];
    let chars = 0;
    let seconds = 0;
    for (let i = 0; i < samples; i++) {
      const g = generateText(loaded.model, loaded.vocab, {
        start: 'X',
        length: sampleLength,
        temperature,
        rng,
        stop: endsFirstSong,
      });
      chars += g.generated;
      seconds += g.seconds;
      songs.push(extractSongSnippets(g.text)[0]);
      // The raw sample, valid or not, so a reader can see what went wrong.
      await writeFileAtomic(run.output('samples', `sample-${String(i + 1).padStart(2, '0')}.txt`), g.text);
    }
    const report = await checkAndWriteSongs(songs, run.output('samples'), run.dir, {
      prefix: 'sample',
      missingReason: `no complete song (no blank line) within ${sampleLength} characters`,
    });
    const evaluation: Evaluation = {
      dir: run.dir,
      step: loaded.step,
      heldOutLoss: held.loss,
      heldOutChars: held.chars,
      charsPerSecond: chars / seconds,
      ...report,
    };
    await writeReport(
      run.output('evaluation'),
      { checkpoint: loaded.dir, seed: options.seed, temperature, ...evaluation },
      `${songsMarkdown(`Evaluation of step ${loaded.step}`, report)}\nHeld-out loss: ${held.loss.toFixed(4)} nats per character over ${held.chars} characters.\n\nGeneration speed: ${evaluation.charsPerSecond.toFixed(1)} characters per second.\n`,
    );
    run.finish('completed', {
      heldOutLoss: held.loss,
      percentValid: report.percent,
      valid: report.valid,
      samples: report.total,
      charsPerSecond: evaluation.charsPerSecond,
    });
    return evaluation;
  } finally {
    loaded.model.dispose();
  }
}
