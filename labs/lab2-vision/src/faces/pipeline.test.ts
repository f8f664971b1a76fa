import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MissingDataError, Rng, tf } from '@introdl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  syntheticFace,
  syntheticFaceSet,
  tempDir,
  useTrainingBackend,
  writeJpeg,
  writeLondonSet,
  writePngChannels,
  writeTestFaces,
} from '../../test/fixtures.js';
import { readImage } from '../image/codec.js';
import { loadModel } from '../model-store.js';
import { predict } from '../predict.js';
import { evaluateFaces } from './evaluate-faces.js';
import { faceInput } from './face-input.js';
import { trainFaces } from './train-faces.js';
import { writeFaceFile } from './write-face-file.js';

/**
 * Part 2 end to end on a tiny synthetic face file: train the classifier and the DB-VAE a few
 * steps, evaluate both by group, predict on image files. Kept small for the cpu backend.
 */
describe('face pipeline', () => {
  const dir = tempDir();
  const facesFile = path.join(dir, 'faces.h5');
  const classifierRun = path.join(dir, 'runs', 'classifier');
  const dbvaeRun = path.join(dir, 'runs', 'dbvae');
  let backend = 'cpu';

  beforeAll(async () => {
    backend = await useTrainingBackend();
    const { bgr, labels } = syntheticFaceSet(4, 4, 1);
    await writeFaceFile(facesFile, bgr, labels, { seed: 1 });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('trains the standard classifier and saves a run folder', async () => {
    const r = await trainFaces({
      model: 'classifier',
      facesFile,
      steps: 2,
      batchSize: 4,
      evalSample: 8,
      seed: 1,
      out: classifierRun,
      progress: 'silent',
      log: () => {},
    });
    expect(r.steps).toBe(2);
    expect(r.trainSampleAccuracy).toBeGreaterThanOrEqual(0);
    const run = JSON.parse(readFileSync(path.join(classifierRun, 'run.json'), 'utf8'));
    expect(run.status).toBe('completed');
    expect(run.config).toMatchObject({ model: 'classifier', batchSize: 4, learningRate: 5e-4 });
    expect(existsSync(path.join(classifierRun, 'outputs', 'metrics.json'))).toBe(true);
  });

  it('trains the DB-VAE: probabilities recomputed each epoch, reconstructions saved as PNG', async () => {
    // 8 images at batch 4 is 2 steps an epoch: 3 steps cover two epochs.
    const r = await trainFaces({
      model: 'dbvae',
      facesFile,
      steps: 3,
      batchSize: 4,
      latentDim: 4,
      sampleEvery: 2,
      evalSample: 8,
      seed: 1,
      out: dbvaeRun,
      progress: 'silent',
      log: () => {},
    });
    expect(r.resamplingRounds).toBe(2);
    const recon = readdirSync(path.join(dbvaeRun, 'outputs', 'reconstructions'));
    expect(recon).toEqual(['step-000002.png', 'step-000003.png']);
    expect(readdirSync(path.join(dbvaeRun, 'outputs', 'resampling'))).toEqual(['epoch-1.png', 'epoch-2.png']);
    const events = readFileSync(path.join(dbvaeRun, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'resampling');
    expect(events.map((e) => e.epoch)).toEqual([1, 2]);
    const loaded = loadModel(dbvaeRun);
    expect(loaded.kind).toBe('dbvae');
    expect(loaded.dbvae!.latentDim).toBe(4);
    loaded.dispose();
  }, 300_000);

  it('reports both models by group with intervals, in JSON, Markdown and a PNG chart', async () => {
    const root = tempDir();
    writeTestFaces(root);
    writeLondonSet(root, 3);
    const r = await evaluateFaces({
      checkpoints: [classifierRun, dbvaeRun],
      dataDir: root,
      facesFile,
      sampleSize: 8,
      resamples: 200,
      seed: 1,
      out: path.join(dir, 'runs', 'eval'),
      log: () => {},
    });
    expect(r.sets.map((s) => s.set)).toEqual(['test_faces', 'london']);
    expect(r.sets[1].models[0].groups.map((g) => g.n)).toEqual([3, 3, 3, 3]);
    const models = r.sets[0].models;
    expect(models.map((m) => m.label)).toEqual(['Standard CNN', 'DB-VAE']);
    for (const m of models) {
      expect(m.groups.map((g) => [g.group, g.n])).toEqual([
        ['LF', 5],
        ['LM', 5],
        ['DF', 5],
        ['DM', 5],
      ]);
      for (const g of m.groups) {
        expect(g.meanPInterval[0]).toBeLessThanOrEqual(g.meanP + 1e-12);
        expect(g.meanPInterval[1]).toBeGreaterThanOrEqual(g.meanP - 1e-12);
      }
    }
    const md = readFileSync(r.files.markdown, 'utf8');
    expect(md).toContain('| LF (lighter female) | 5 |');
    expect(md).toMatch(
      /With only 3 faces in the smallest group, .* intervals of the mean P\(face\) are \d\.\d\d wide on average/,
    );
    expect(md).toContain('## The London set, held-out people, by skin group × gender');
    // These models record no person split: every London person is used, and the report says so.
    expect(r.sets[1].note).toMatch(/^\*\*All 12 London people\*\*: the models record no person split/);
    expect(md).toMatch(/Standard CNN: \d+ of 20 faces at P ≥ 0\.5; worst group (LF|LM|DF|DM)/);
    const json = JSON.parse(readFileSync(r.files.json, 'utf8'));
    // The rows the studio charts: every set × group × model, with n.
    expect(json.rows).toHaveLength(2 * 4 * 2);
    expect(json.rows[0]).toMatchObject({ model: 'Standard CNN', group: 'test LF', n: 5 });
    expect(readFileSync(r.files.chartSvg, 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(r.files.chart).subarray(1, 4).toString()).toBe('PNG');
    expect(JSON.parse(readFileSync(r.files.json, 'utf8')).trainingSample).toHaveLength(2);
  });

  it('fails clearly when no test faces can be found', async () => {
    await expect(
      evaluateFaces({ checkpoints: [classifierRun], dataDir: tempDir(), seed: 1, log: () => {} }),
    ).rejects.toThrow(MissingDataError);
  });

  it('predicts P(face) for PNG (RGBA, grey) and JPEG files of any size, as the course loader prepares them', async () => {
    const imgDir = tempDir();
    const rng = new Rng(5);
    const face = syntheticFace(rng, 90);
    const rgba = path.join(imgDir, 'face.png');
    writePngChannels(rgba, 90, 90, 4, (x, y) => [...face.data.subarray((y * 90 + x) * 3, (y * 90 + x) * 3 + 3), 128]);
    const grey = path.join(imgDir, 'grey.png');
    writePngChannels(grey, 50, 30, 1, (x, y) => [(x * 5 + y * 3) % 256]);
    const jpg = path.join(imgDir, 'photo.jpg');
    writeJpeg(jpg, syntheticFace(rng, 120));
    const r = await predict({ checkpoint: classifierRun, images: [rgba, grey, jpg] });
    expect(r.kind).toBe('classifier');
    expect(r.predictions).toHaveLength(3);
    const model = loadModel(classifierRun);
    const expected = tf.tidy(
      () => tf.sigmoid(model.faceLogit!(tf.tensor4d(faceInput(readImage(rgba)), [1, 64, 64, 3]))).dataSync()[0],
    );
    model.dispose();
    const first = r.predictions[0] as { pFace: number };
    expect(first.pFace).toBeCloseTo(expected, 5);
    for (const p of r.predictions as { pFace: number }[]) expect(p.pFace).toBeGreaterThanOrEqual(0);
    expect(backend).toMatch(/cpu|wasm/);
  });
});
