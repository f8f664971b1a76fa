import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, tf } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticFaceSet, tempDir, useTrainingBackend } from '../test/fixtures.js';
import { restoreCompactModel, writeCompactModel } from './compact-model.js';
import { trainFaces } from './faces/train-faces.js';
import { writeFaceFile } from './faces/write-face-file.js';
import { loadModel } from './model-store.js';

describe('compact model files (int8 weights)', () => {
  const dir = tempDir();
  const run = path.join(dir, 'runs', 'lab2-vision', 'cnn');
  beforeAll(async () => {
    await useTrainingBackend();
    const { bgr, labels } = syntheticFaceSet(8, 8, 3);
    const file = await writeFaceFile(path.join(dir, 'f.h5'), bgr, labels);
    await trainFaces({
      model: 'classifier',
      facesFile: file,
      steps: 3,
      batchSize: 8,
      evalSample: 8,
      seed: 1,
      out: run,
      progress: 'silent',
      log: () => {},
    });
    writeFileSync(
      path.join(run, 'outputs', 'detector.json'),
      JSON.stringify({ step: 3, threshold: 0.9, faceScale: 1.01 }),
    );
  }, 300_000);

  it('is a quarter of the checkpoint, and restores a run that predicts (almost) the same', async () => {
    const file = path.join(dir, 'cnn.int8');
    const bytes = await writeCompactModel(run, file);
    // 0.65 M parameters: about one byte each.
    expect(bytes).toBeGreaterThan(600_000);
    expect(bytes).toBeLessThan(1_000_000);
    const restored = await restoreCompactModel(file, path.join(dir, 'runs', 'lab2-vision', 'restored'));
    const [a, b] = [loadModel(run), loadModel(restored)];
    const x = tf.randomUniform([6, 64, 64, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const [la, lb] = [a.faceLogit!(x).dataSync(), b.faceLogit!(x).dataSync()];
    for (let i = 0; i < 6; i++) expect(Math.abs(la[i] - lb[i])).toBeLessThan(0.05 * (1 + Math.abs(la[i])));
    expect(b.step).toBe(3);
    expect(b.config.model).toBe('classifier');
    const checkpoint = b.checkpoint;
    a.dispose();
    b.dispose();
    // The detector settings travel with it.
    const { detectorSettings } = await import('./detect/detector-settings.js');
    const s = detectorSettings(checkpoint, 3);
    expect([s.threshold, s.faceScale]).toEqual([0.9, 1.01]);
  }, 120_000);

  it('refuses a file that is not one, with one error naming it', async () => {
    const bad = path.join(dir, 'bad.int8');
    writeFileSync(bad, 'not a model');
    await expect(restoreCompactModel(bad, path.join(dir, 'x'))).rejects.toThrow(BadFileError);
    await expect(restoreCompactModel(bad, path.join(dir, 'x'))).rejects.toThrow(
      /bad\.int8: is not a compact Lab 2 model/,
    );
  });
});
