import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addImageInputMetadata } from './tflite-metadata.js';

/**
 * Puts the files the browser's face detector loads next to the built app, so the studio serves
 * them itself and no request leaves the machine:
 * - MediaPipe's tasks-vision wasm (the SIMD build, which every current browser runs);
 * - BlazeFace short-range from `@mediapipe/face_detection`, given the input metadata the tasks API
 *   needs (see tflite-metadata.ts).
 * Run after `vite build` (which empties dist/app).
 */

const require = createRequire(import.meta.url);
/** A package's folder, found from its main entry (tasks-vision does not export package.json). */
function packageDir(name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** Where the app expects these files, relative to its root. */
export const VENDOR = {
  wasmLoader: 'vendor/mediapipe/vision_wasm_internal.js',
  wasmBinary: 'vendor/mediapipe/vision_wasm_internal.wasm',
  faceModel: 'vendor/mediapipe/blaze_face_short_range.tflite',
} as const;

export function writeVendorFiles(appDir: string): void {
  const tasks = packageDir('@mediapipe/tasks-vision');
  mkdirSync(path.join(appDir, 'vendor', 'mediapipe'), { recursive: true });
  copyFileSync(path.join(tasks, 'wasm', 'vision_wasm_internal.js'), path.join(appDir, VENDOR.wasmLoader));
  copyFileSync(path.join(tasks, 'wasm', 'vision_wasm_internal.wasm'), path.join(appDir, VENDOR.wasmBinary));
  const legacy = path.join(packageDir('@mediapipe/face_detection'), 'face_detection_short_range.tflite');
  const model = addImageInputMetadata(new Uint8Array(readFileSync(legacy)), {
    name: 'BlazeFace short range (from @mediapipe/face_detection)',
    mean: 127.5,
    std: 127.5,
  });
  writeFileSync(path.join(appDir, VENDOR.faceModel), model);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeVendorFiles(process.argv[2] ?? fileURLToPath(new URL('../app/', import.meta.url)));
}
