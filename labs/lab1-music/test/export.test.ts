import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkOnnxFiles, maxRelativeDifference, pythonWithOnnx, tf, useBackend } from '@introdl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGenerate } from '../src/actions/generate-run.js';
import { vectorize } from '../src/data/vocab.js';
import { exportMusicModel } from '../src/export/export-music.js';
import { runGenerateOnnx } from '../src/export/generate-onnx.js';
import { OnnxMusicModel } from '../src/export/onnx-music-model.js';
import { loadMusicModel } from '../src/model/checkpoint.js';
import { trainMusicModel } from '../src/train/train.js';
import { makeCorpus } from './fixtures.js';

/**
 * `introdl lab1 export`: a music model trained for a few steps here, exported to ONNX, gives the tfjs
 * model's logits and state (whole sequence and step by step), passes onnx.checker, and
 * `generate --runtime onnx` writes the same text as the tfjs generator for the same seed.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'lab1-export-'));
const run = path.join(dir, 'run');
const exported = path.join(dir, 'onnx');
const quiet = () => {};

beforeAll(async () => {
  await useBackend('wasm');
  const corpus = path.join(dir, 'tunes.abc');
  writeFileSync(corpus, makeCorpus(30));
  await trainMusicModel({
    preset: 'custom',
    overrides: { steps: 6, batchSize: 4, seqLength: 20, learningRate: 1e-2, embeddingDim: 8, units: 24 },
    seed: 1,
    out: run,
    dataPath: corpus,
    progress: 'silent',
    log: quiet,
  });
  await exportMusicModel({ checkpoint: run, out: exported });
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lab1 export --format onnx', () => {
  it('the sequence and step models give the tfjs logits and state (max relative difference ≤ 1e-4)', async () => {
    const loaded = loadMusicModel(run);
    const onnx = await OnnxMusicModel.load(exported);
    const text = makeCorpus(30).slice(0, 40);
    const ids = vectorize(text, loaded.vocab);
    const want = loaded.model.run(tf.tensor2d(ids, [1, ids.length], 'int32'));
    const wantLogits = want.logits.dataSync();
    const seq = await onnx.run(ids);
    const rel = maxRelativeDifference(seq.logits, wantLogits);
    console.log(`lab1 music model: ONNX vs tfjs logits, max relative difference ${rel.toExponential(2)}`);
    expect(rel).toBeLessThanOrEqual(1e-4);
    expect(maxRelativeDifference(seq.h.data as Float32Array, want.state.h.dataSync())).toBeLessThanOrEqual(1e-4);
    expect(maxRelativeDifference(seq.c.data as Float32Array, want.state.c.dataSync())).toBeLessThanOrEqual(1e-4);
    // The first character through the sequence model, the rest one step at a time.
    const V = loaded.vocab.chars.length;
    let state = await onnx.run(ids.slice(0, 1));
    for (let t = 1; t < ids.length; t++) {
      state = await onnx.step(ids[t], state.h, state.c);
      const stepRel = maxRelativeDifference(state.logits, wantLogits.subarray(t * V, (t + 1) * V));
      expect(stepRel).toBeLessThanOrEqual(1e-4);
    }
    tf.dispose([want.logits, want.state.h, want.state.c]);
    onnx.dispose();
    loaded.model.dispose();
  });

  it('generate --runtime onnx writes the text the tfjs generator writes for the same seed', async () => {
    const common = { start: 'X', length: 120, temperature: 1, seed: 3, log: quiet };
    const a = await runGenerate({ ...common, checkpoint: run, out: path.join(dir, 'gen-tfjs') });
    const b = await runGenerateOnnx({ ...common, checkpoint: exported, out: path.join(dir, 'gen-onnx') });
    expect(b.text).toBe(a.text);
    expect(readFileSync(path.join(b.dir, 'outputs', 'generated.txt'), 'utf8')).toBe(a.text);
    console.log(
      `lab1 generation: tfjs ${a.charsPerSecond.toFixed(0)} chars/s, onnx ${b.charsPerSecond.toFixed(0)} chars/s`,
    );
  });

  it('an exported folder is never overwritten', async () => {
    await expect(exportMusicModel({ checkpoint: run, out: exported })).rejects.toThrow(/not empty/);
  });

  it.runIf(pythonWithOnnx())('both files pass onnx.checker.check_model', () => {
    const files = ['music-step.onnx', 'music-sequence.onnx'].map((f) => path.join(exported, f));
    for (const r of checkOnnxFiles(files)) expect(r.ok, `${r.file}: ${r.message}`).toBe(true);
  });
});
