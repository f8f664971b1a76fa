import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from '@introdl/core';
import type { RgbImage } from '../image/rgb-image.js';
import type { ScoredBox } from './boxes.js';

/**
 * The reference detector: `@vladmandic/face-api`'s Tiny Face Detector, with the weights that ship
 * inside the npm package, read from disk (no network). It runs on whatever tfjs backend is active.
 */

const require = createRequire(import.meta.url);

interface FaceApi {
  nets: { tinyFaceDetector: { isLoaded: boolean; loadFromDisk(dir: string): Promise<void> } };
  TinyFaceDetectorOptions: new (o: { inputSize?: number; scoreThreshold?: number }) => unknown;
  detectAllFaces(
    input: tf.Tensor3D,
    options: unknown,
  ): Promise<{ score: number; box: { x: number; y: number; width: number; height: number } }[]>;
}

let faceApi: FaceApi | undefined;

/** The folder of face-api's bundled model files. */
export function faceApiModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

async function loadFaceApi(): Promise<FaceApi> {
  if (!faceApi) {
    // The Node build for the wasm backend: it uses the same @tensorflow/tfjs instance as core, so
    // it runs on the backend the command activated.
    faceApi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  }
  if (!faceApi.nets.tinyFaceDetector.isLoaded) await faceApi.nets.tinyFaceDetector.loadFromDisk(faceApiModelDir());
  return faceApi;
}

/** Faces found by the reference detector, best first. */
export async function referenceDetect(
  image: RgbImage,
  options: { inputSize?: number; scoreThreshold?: number } = {},
): Promise<ScoredBox[]> {
  const api = await loadFaceApi();
  const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  try {
    const found = await api.detectAllFaces(
      input,
      new api.TinyFaceDetectorOptions({
        inputSize: options.inputSize ?? 416,
        scoreThreshold: options.scoreThreshold ?? 0.5,
      }),
    );
    return found
      .map((d) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score }))
      .sort((a, b) => b.score - a.score);
  } finally {
    input.dispose();
  }
}
