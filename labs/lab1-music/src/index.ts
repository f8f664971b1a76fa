/**
 * @introdl/lab1-music: MIT 6.S191 Lab 1 in TypeScript. Part 1, the framework intro; Part 2, an
 * LSTM that writes Irish folk tunes in ABC notation, checked with abcjs and played as MIDI and WAV.
 * @packageDocumentation
 */
export { audioNotes, parseTune, plainWarnings } from './abc/abcjs.js';
export { checkSong, REQUIRED_HEADERS, type SongCheck, validitySummary } from './abc/validate.js';
export { type CorpusStats, corpusStats, describeStats } from './actions/data-stats.js';
export { type EvaluateRunOptions, type Evaluation, runEvaluate } from './actions/evaluate-run.js';
export { type GenerateRunOptions, type GenerateRunSummary, runGenerate } from './actions/generate-run.js';
export { type IntroResults, runIntro } from './actions/intro-run.js';
export { midiBytes, readMidiNotes } from './audio/midi.js';
export { midiToHz, type Performance, type PlayedNote, performSong } from './audio/notes.js';
export { type SongFiles, writeSongFiles } from './audio/song-files.js';
export { decodeWav, encodeWav, RELEASE_SECONDS, type RenderOptions, renderPerformance } from './audio/wav.js';
export { commands } from './commands.js';
export { batchTensors, type CharBatch, getBatch, sequentialWindows } from './data/batches.js';
export {
  type Corpus,
  decodeText,
  IRISH_ABC,
  IRISH_ABC_URL,
  type LoadCorpusOptions,
  loadCorpus,
} from './data/dataset.js';
export { extractSongSnippets, joinSongs } from './data/songs.js';
export { groupTunes, type SongSplit, splitSongs } from './data/split.js';
export { describeChars, Vocabulary, vectorize } from './data/vocab.js';
export { rubric } from './grading/rubric.js';
export { LAB, type LoadedMusicModel, loadMusicModel, type MusicRunConfig } from './model/checkpoint.js';
export { endsFirstSong, type Generated, type GenerateOptions, generateText } from './model/generate.js';
export { type HeldOutOptions, heldOutLoss } from './model/held-out.js';
export { computeLoss } from './model/loss.js';
export { COURSE_MODEL, MusicModel, type MusicModelConfig, type MusicModelOutput } from './model/music-model.js';
export { sampleIndex } from './model/sample.js';
export { gradientOfSquare } from './part1/autograd.js';
export { OurDenseLayer } from './part1/dense.js';
export { type MinimiseOptions, minimise, plotHistory, targetLoss } from './part1/gradient-descent.js';
export { func } from './part1/graph.js';
export {
  LinearButSometimesIdentity,
  LinearWithSigmoidActivation,
  SigmoidLayer,
  sequentialModel,
} from './part1/models.js';
export { makeImages, makeMatrix, sliceExamples } from './part1/tensors.js';
export { PRESETS, type PresetName, presetModel, resolvePreset, type TrainingPreset } from './train/presets.js';
export { trainStep } from './train/step.js';
export { type TrainOptions, type TrainSummary, trainMusicModel } from './train/train.js';
