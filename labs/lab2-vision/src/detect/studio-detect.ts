import { activeBackend, useBackend } from '@introdl/core';
import type { RgbImage } from '../image/rgb-image.js';
import { type LoadedModel, loadModel } from '../model-store.js';
import { detectorSettings } from './detector-settings.js';
import { detectFaces as slidingWindow } from './sliding-window.js';

/**
 * What the studio's Lab 2 page calls (see the studio's lab-contract.ts): the lab's sliding-window
 * detector over an image the browser sends, with the classifier of a run folder and the settings
 * that run calibrated. Models stay loaded between calls (one per run, the latest checkpoint).
 */

/** Row-major RGBA pixels, as a canvas gives them. */
export interface RgbaPixels {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A kept box in pixels with the classifier's P(face). */
export interface StudioFaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  pFace: number;
}

const loaded = new Map<string, LoadedModel>();

function rgbaToRgb(image: RgbaPixels): RgbImage {
  const n = image.width * image.height;
  if (image.data.length !== n * 4)
    throw new Error(`expected ${image.width}×${image.height}×4 = ${n * 4} RGBA bytes, got ${image.data.length}`);
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[3 * i] = image.data[4 * i];
    data[3 * i + 1] = image.data[4 * i + 1];
    data[3 * i + 2] = image.data[4 * i + 2];
  }
  return { width: image.width, height: image.height, data };
}

/**
 * Runs the detector of the Lab 2 run folder `run` (absolute path) over `image`; boxes best first.
 * The classifier runs on the wasm backend unless a faster one is already active (the studio does
 * not choose a backend; the plain JavaScript one would take minutes per photo).
 */
export async function detectFaces(
  image: RgbaPixels,
  options: { run: string; signal?: AbortSignal },
): Promise<StudioFaceBox[]> {
  if (activeBackend() === 'cpu') await useBackend('wasm');
  let model = loaded.get(options.run);
  if (!model) {
    model = loadModel(options.run, ['classifier', 'dbvae']);
    loaded.set(options.run, model);
  }
  options.signal?.throwIfAborted();
  const settings = detectorSettings(model.checkpoint, model.step);
  const found = slidingWindow(rgbaToRgb(image), model.faceLogit!, {
    threshold: settings.threshold,
    faceScale: settings.faceScale,
  });
  return found.boxes.map((b) => ({ x: b.x, y: b.y, width: b.width, height: b.height, pFace: b.score }));
}
