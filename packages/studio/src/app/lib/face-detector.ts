import { FaceDetector } from '@mediapipe/tasks-vision';

/**
 * MediaPipe's face detector (tasks-vision) in the browser, loading its wasm and the BlazeFace
 * short-range model from this server (`/vendor/mediapipe/`), never from a CDN.
 */

/** A box in image pixels with the detector's score. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
}

let detector: Promise<FaceDetector> | undefined;

function load(): Promise<FaceDetector> {
  detector ??= FaceDetector.createFromOptions(
    {
      wasmLoaderPath: new URL('/vendor/mediapipe/vision_wasm_internal.js', location.href).href,
      wasmBinaryPath: new URL('/vendor/mediapipe/vision_wasm_internal.wasm', location.href).href,
    },
    {
      baseOptions: { modelAssetPath: '/vendor/mediapipe/blaze_face_short_range.tflite', delegate: 'CPU' },
      runningMode: 'IMAGE',
      minDetectionConfidence: 0.5,
    },
  ).catch((err: unknown) => {
    detector = undefined;
    throw err;
  });
  return detector;
}

/** Faces in `image`, best first. */
export async function detectWithMediaPipe(image: HTMLCanvasElement): Promise<Box[]> {
  const d = await load();
  const result = d.detect(image);
  return result.detections
    .filter((det) => det.boundingBox)
    .map((det) => ({
      x: det.boundingBox?.originX ?? 0,
      y: det.boundingBox?.originY ?? 0,
      width: det.boundingBox?.width ?? 0,
      height: det.boundingBox?.height ?? 0,
      score: det.categories[0]?.score ?? 0,
    }))
    .sort((a, b) => b.score - a.score);
}

/** Intersection over union of two boxes. */
export function iou(
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const hgt = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * hgt;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}
