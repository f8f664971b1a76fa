import path from 'node:path';
import { RunFolder, writeFileAtomic } from '@introdl/core';
import { OnnxLab2Model } from '../export/onnx-model.js';
import { readImage } from '../image/codec.js';
import type { RgbImage } from '../image/rgb-image.js';
import { svgDocument, svgImage, svgRect, svgText, writeSvgAsPng } from '../image/svg-picture.js';
import { loadModel } from '../model-store.js';
import { bestMatches, type ScoredBox } from './boxes.js';
import { detectorSettings } from './detector-settings.js';
import { referenceDetect } from './reference-detector.js';
import { detectFaces, detectFacesWith, type SlidingWindowOptions } from './sliding-window.js';

/** `introdl lab2 detect`: the sliding-window detector, the reference detector, and their agreement. */

export interface DetectImagesOptions extends SlidingWindowOptions {
  checkpoint: string;
  images: string[];
  reference?: boolean;
  /** `onnx`: `checkpoint` is a folder from `introdl lab2 export`, run in onnxruntime-node. */
  runtime?: 'tfjs' | 'onnx';
  seed: number;
  out?: string;
  backend?: string;
  device?: string;
  log?: (m: string) => void;
}

export interface ImageDetections {
  image: string;
  width: number;
  height: number;
  windows: number;
  /** Windows at or above the threshold, before non-maximum suppression. */
  candidates: number;
  maxScore: number;
  threshold: number;
  /** Seconds the sliding window took (cropping, resizing and scoring every window). */
  seconds: number;
  boxes: ScoredBox[];
  reference?: ScoredBox[];
  /** For each reference face, the best IoU with one of our boxes. */
  agreement?: number[];
  picture: string;
}

/** Draws our boxes (red, with P(face)) and the reference's (green, dashed) over the image. */
export async function writeDetectionPicture(
  image: RgbImage,
  boxes: ScoredBox[],
  reference: ScoredBox[] | undefined,
  file: string,
  title: string,
): Promise<string> {
  const scale = Math.min(1, 800 / Math.max(image.width, image.height));
  const w = Math.round(image.width * scale);
  const h = Math.round(image.height * scale);
  const top = 44;
  const s = (b: ScoredBox) => ({
    x: b.x * scale,
    y: top + b.y * scale,
    width: b.width * scale,
    height: b.height * scale,
  });
  const body = [
    svgText(title, 8, 18, { size: 13, weight: 'bold' }),
    svgText('red: sliding-window classifier (P(face))   green dashed: face-api tiny face detector', 8, 36, {
      size: 11,
    }),
    svgImage(image, 0, top, w, h),
  ];
  for (const b of reference ?? []) body.push(svgRect(s(b), '#18a418', 3, '8 5'));
  for (const b of boxes) {
    const r = s(b);
    body.push(svgRect(r, '#e01b1b', 3));
    body.push(
      svgText(b.score.toFixed(2), r.x + 3, Math.max(top + 12, r.y - 4), { size: 12, color: '#e01b1b', weight: 'bold' }),
    );
  }
  return writeSvgAsPng(svgDocument(w, h + top, body), file);
}

export async function detectImages(
  options: DetectImagesOptions,
): Promise<{ runDir: string; results: ImageDetections[] }> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const images = options.images.map((f) => ({ file: f, image: readImage(f) }));
  const onnx = options.runtime === 'onnx' ? await OnnxLab2Model.load(options.checkpoint) : undefined;
  const model = onnx
    ? { kind: onnx.kind, checkpoint: onnx.dir, faceLogit: undefined, dispose: () => onnx.dispose() }
    : loadModel(options.checkpoint, ['classifier', 'dbvae']);
  // A training run's calibrated threshold and face scale (an ONNX export carries neither).
  const settings =
    'step' in model
      ? detectorSettings(model.checkpoint, model.step)
      : { threshold: 0.5, faceScale: 1, source: 'P(face) ≥ 0.5 (an export has no calibrated threshold)' };
  const windowOptions: SlidingWindowOptions = {
    sizes: options.sizes,
    minFraction: options.minFraction,
    maxFraction: options.maxFraction,
    strideFraction: options.strideFraction,
    threshold: options.threshold ?? settings.threshold,
    nmsIou: options.nmsIou,
    minNeighbours: options.minNeighbours,
    faceScale: options.faceScale ?? settings.faceScale,
  };
  for (const k of Object.keys(windowOptions) as (keyof SlidingWindowOptions)[])
    if (windowOptions[k] === undefined) delete windowOptions[k];
  log(
    `window threshold ${windowOptions.threshold!.toPrecision(6)}: ${options.threshold === undefined ? settings.source : 'from --threshold'}; box = window × ${windowOptions.faceScale!.toFixed(3)}`,
  );
  const run = RunFolder.create({
    lab: 'lab2-vision',
    command: 'introdl lab2 detect',
    config: {
      checkpoint: model.checkpoint,
      model: model.kind,
      runtime: options.runtime ?? 'tfjs',
      images: options.images,
      ...windowOptions,
      thresholdSource: options.threshold === undefined ? settings.source : '--threshold',
    },
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.out,
  });
  try {
    const results: ImageDetections[] = [];
    for (const { file, image } of images) {
      const t0 = performance.now();
      const found = onnx
        ? await detectFacesWith(image, (data, n) => onnx.faceProbabilities(data, n), windowOptions)
        : detectFaces(image, model.faceLogit!, windowOptions);
      const seconds = (performance.now() - t0) / 1000;
      const reference = options.reference === false ? undefined : await referenceDetect(image);
      const name = path.basename(file).replace(/\.[^.]+$/, '');
      const picture = await writeDetectionPicture(
        image,
        found.boxes,
        reference,
        run.output('detections', `${name}.png`),
        `${path.basename(file)}: ${found.boxes.length} face(s) by the ${model.kind === 'dbvae' ? 'DB-VAE' : 'standard CNN'}${reference ? `, ${reference.length} by the reference` : ''}`,
      );
      const r: ImageDetections = {
        image: file,
        width: image.width,
        height: image.height,
        windows: found.windows,
        candidates: found.candidates,
        maxScore: found.maxScore,
        threshold: windowOptions.threshold!,
        seconds,
        boxes: found.boxes,
        reference,
        agreement: reference && bestMatches(reference, found.boxes),
        picture,
      };
      results.push(r);
      log(
        `${file}: ${found.boxes.length} box(es) from ${found.windows} windows (${found.candidates} at or above the threshold) in ${seconds.toFixed(2)} s (best P ${found.maxScore.toFixed(3)})${reference ? `; reference ${reference.length}, IoU ${r.agreement!.map((v) => v.toFixed(2)).join(', ') || '–'}` : ''}`,
      );
    }
    await writeFileAtomic(run.output('detections.json'), `${JSON.stringify(results, null, 2)}\n`);
    run.finish('completed', {
      images: results.map((r) => ({
        image: r.image,
        boxes: r.boxes.length,
        reference: r.reference?.length,
        agreement: r.agreement,
      })),
    });
    return { runDir: run.dir, results };
  } catch (err) {
    if (run.info.status === 'running') run.finish('failed', undefined, (err as Error).message);
    throw err;
  } finally {
    model.dispose();
  }
}
