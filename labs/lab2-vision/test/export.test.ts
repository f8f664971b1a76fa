import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  checkOnnxFiles,
  createOnnxSession,
  floatTensor,
  maxRelativeDifference,
  pythonWithOnnx,
  Rng,
  tf,
} from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectImages } from '../src/detect/detect-images.js';
import { trainDigits } from '../src/digits/train.js';
import { exportLab2Model } from '../src/export/export-model.js';
import { OnnxLab2Model } from '../src/export/onnx-model.js';
import { trainFaces } from '../src/faces/train-faces.js';
import { writeFaceFile } from '../src/faces/write-face-file.js';
import { loadModel } from '../src/model-store.js';
import { skimagePhoto, syntheticFaceSet, tempDir, useTrainingBackend, writeDigitFixture } from './fixtures.js';

/**
 * `introdl lab2 export`: each kind of model, trained for a few steps here, exported to ONNX, gives in
 * onnxruntime-node what the tfjs model gives on the same images (max relative difference ≤ 1e-4),
 * passes onnx.checker, and the sliding-window detector finds the same boxes on astronaut.png with
 * either runtime.
 */

const dir = tempDir('lab2-export-');
const astronaut = [
  process.env.INTRODL_DATA && path.join(process.env.INTRODL_DATA, 'lab2-faces', 'nonface-cc0', 'astronaut.png'),
  skimagePhoto('astronaut.png'),
].find((p): p is string => typeof p === 'string' && existsSync(p));

function randomImages(n: number, shape: number[], seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * shape.reduce((a, b) => a * b, 1) }, () => rng.next());
}

const checkpoints: Record<string, string> = {};
const exports: Record<string, string> = {};

beforeAll(async () => {
  await useTrainingBackend();
  const { bgr, labels } = syntheticFaceSet(8, 8, 3);
  const facesFile = await writeFaceFile(path.join(dir, 'faces.h5'), bgr, labels);
  for (const model of ['classifier', 'dbvae'] as const) {
    checkpoints[model] = path.join(dir, model);
    await trainFaces({
      model,
      facesFile,
      steps: 3,
      batchSize: 8,
      latentDim: 8,
      evalSample: 8,
      sampleEvery: 0,
      seed: 1,
      out: checkpoints[model],
      progress: 'silent',
      log: () => {},
    });
  }
  const digits = writeDigitFixture(path.join(dir, 'digits'), 64, 16);
  checkpoints.cnn = path.join(dir, 'cnn');
  await trainDigits({
    model: 'cnn',
    dataset: 'fashion-mnist',
    dataDir: digits,
    epochs: 1,
    batchSize: 32,
    seed: 1,
    out: checkpoints.cnn,
    log: () => {},
  });
  for (const kind of Object.keys(checkpoints)) {
    exports[kind] = path.join(dir, `${kind}-onnx`);
    await exportLab2Model({ checkpoint: checkpoints[kind], out: exports[kind] });
  }
}, 300_000);

describe('lab2 export --format onnx', () => {
  it.each(['classifier', 'dbvae'])('the %s gives the tfjs P(face) (max relative difference ≤ 1e-4)', async (kind) => {
    const tfjs = loadModel(checkpoints[kind]);
    const onnx = await OnnxLab2Model.load(exports[kind]);
    const n = 6;
    const x = randomImages(n, [64, 64, 3], 11);
    const want = tf.tidy(() => tf.sigmoid(tfjs.faceLogit!(tf.tensor4d(x, [n, 64, 64, 3]))).dataSync());
    const got = await onnx.faceProbabilities(x, n);
    const rel = maxRelativeDifference(got, want);
    console.log(`lab2 ${kind}: ONNX vs tfjs P(face), max relative difference ${rel.toExponential(2)}`);
    expect(rel).toBeLessThanOrEqual(1e-4);
    onnx.dispose();
    tfjs.dispose();
  });

  it("the DB-VAE encoder gives the tfjs encoder's mu and logsigma", async () => {
    const tfjs = loadModel(checkpoints.dbvae);
    const session = await createOnnxSession(path.join(exports.dbvae, 'encoder.onnx'));
    const x = randomImages(3, [64, 64, 3], 12);
    const want = tf.tidy(() => {
      const e = tfjs.dbvae!.encode(tf.tensor4d(x, [3, 64, 64, 3]));
      return { mu: e.mu.dataSync(), logsigma: e.logsigma.dataSync() };
    });
    const out = await session.run({ images: await floatTensor(x, [3, 64, 64, 3]) });
    expect(out.mu.dims).toEqual([3, 8]);
    expect(maxRelativeDifference(out.mu.data as Float32Array, want.mu)).toBeLessThanOrEqual(1e-4);
    expect(maxRelativeDifference(out.logsigma.data as Float32Array, want.logsigma)).toBeLessThanOrEqual(1e-4);
    await session.release();
    tfjs.dispose();
  });

  it('the Part 1 CNN gives the tfjs class probabilities', async () => {
    const tfjs = loadModel(checkpoints.cnn);
    const onnx = await OnnxLab2Model.load(exports.cnn);
    const x = randomImages(5, [28, 28, 1], 13);
    const want = tf.tidy(() =>
      tf.softmax(tfjs.layers!.predict(tf.tensor4d(x, [5, 28, 28, 1])) as tf.Tensor).dataSync(),
    );
    const got = (await onnx.classProbabilities(x, 5)).flat();
    const rel = maxRelativeDifference(got, want);
    console.log(`lab2 cnn: ONNX vs tfjs probabilities, max relative difference ${rel.toExponential(2)}`);
    expect(rel).toBeLessThanOrEqual(1e-4);
    onnx.dispose();
    tfjs.dispose();
  });

  it.runIf(pythonWithOnnx())('every exported file passes onnx.checker.check_model', () => {
    const files = [
      path.join(exports.classifier, 'model.onnx'),
      path.join(exports.dbvae, 'classifier.onnx'),
      path.join(exports.dbvae, 'encoder.onnx'),
      path.join(exports.cnn, 'model.onnx'),
    ];
    for (const r of checkOnnxFiles(files)) expect(r.ok, `${r.file}: ${r.message}`).toBe(true);
  });

  it.runIf(astronaut)('detect --runtime onnx finds the same boxes on astronaut.png as the tfjs path', async () => {
    const common = {
      images: [astronaut as string],
      reference: false,
      seed: 1,
      threshold: 0.5,
      minNeighbours: 1,
      log: () => {},
    };
    const tfjs = await detectImages({ ...common, checkpoint: checkpoints.classifier, out: path.join(dir, 'det-tfjs') });
    const onnx = await detectImages({
      ...common,
      checkpoint: exports.classifier,
      runtime: 'onnx',
      out: path.join(dir, 'det-onnx'),
    });
    const [a] = tfjs.results;
    const [b] = onnx.results;
    console.log(
      `lab2 detect astronaut.png (${a.windows} windows): tfjs ${a.seconds.toFixed(2)} s, onnx ${b.seconds.toFixed(2)} s; ${a.boxes.length} boxes`,
    );
    expect(b.windows).toBe(a.windows);
    expect(b.maxScore).toBeCloseTo(a.maxScore, 4);
    expect(b.boxes.length).toBe(a.boxes.length);
    b.boxes.forEach((box, i) => {
      for (const k of ['x', 'y', 'width', 'height'] as const) expect(box[k]).toBeCloseTo(a.boxes[i][k], 3);
      expect(box.score).toBeCloseTo(a.boxes[i].score, 4);
    });
  });
});
