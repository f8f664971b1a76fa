import { Rng, RunFolder } from '@introdl/core';
import {
  completeGenerateRun,
  type GenerateRunOptions,
  type GenerateRunSummary,
  generateSettings,
  sampleSongs,
} from '../actions/generate-run.js';
import { LAB } from '../model/checkpoint.js';
import { OnnxMusicModel } from './onnx-music-model.js';

/**
 * `introdl lab1 generate --runtime onnx`: {@link runGenerate} with `checkpoint` an exported folder run
 * in onnxruntime-node. Same run folder, songs, report and text for the same seed.
 */
export async function runGenerateOnnx(options: GenerateRunOptions): Promise<GenerateRunSummary> {
  const { log, start, length, temperature } = generateSettings(options);
  const model = await OnnxMusicModel.load(options.checkpoint);
  try {
    // Check the start string before a run folder exists, so a bad flag leaves nothing behind.
    await model.generateText({ start, length: 0, rng: new Rng(0), temperature });
    const m = model.manifest;
    const run = RunFolder.create({
      lab: LAB,
      command: 'introdl lab1 generate',
      config: {
        checkpoint: m.checkpoint,
        export: model.dir,
        runtime: 'onnx',
        step: m.step,
        start,
        length,
        temperature,
        model: m.model,
      },
      seed: options.seed,
      backend: 'onnxruntime-node',
      device: 'cpu',
      out: options.out,
    });
    log(`ONNX model from ${model.dir} (step ${m.step}); run folder ${run.dir}`);
    const result = await sampleSongs({ dir: model.dir, step: m.step }, run, {
      start,
      length,
      temperature,
      seed: options.seed,
      sampleRate: options.sampleRate,
      stream: options.stream,
      generate: (o) => model.generateText(o),
    });
    return completeGenerateRun(run, result);
  } finally {
    model.dispose();
  }
}
