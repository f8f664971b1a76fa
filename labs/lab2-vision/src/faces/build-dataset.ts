import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '@introdl/core';
import { iou } from '../detect/boxes.js';
import { referenceDetect } from '../detect/reference-detector.js';
import { loadDigits } from '../digits/data.js';
import { applyJitter, faceCropBox, randomJitter } from '../image/augment.js';
import { readImage } from '../image/codec.js';
import { resizeBilinear } from '../image/resize.js';
import { type Box, cropImage, flipHorizontal, greyToRgb, type RgbImage } from '../image/rgb-image.js';
import { faceDataRoot, faceFolders, listImages, requireFolder } from './course-data.js';
import { rgbToBgrInto, writeFaceFile } from './write-face-file.js';

/**
 * `introdl lab2 build-dataset`: an offline stand-in for `train_face.h5`, in the same layout, from
 * the course data under the data root:
 * - positives: every face in the London set's photos (found by the reference face detector, or a
 *   centred square when it finds none), each augmented `augmentations` times (horizontal flip,
 *   a jittered crop, colour jitter);
 * - negatives: random square crops (10–100% of the shorter side) of the CC0 photos that stay clear of any face in them, and
 *   Fashion-MNIST images up-sampled from 28×28 to 64×64.
 * Everything random comes from one seeded generator, and the file's attributes record the seed,
 * the sources and the counts.
 */

export interface BuildDatasetOptions {
  dataDir?: string;
  output: string;
  /** Augmented copies of each face (default 40). */
  augmentations?: number;
  /** Number of negatives (default: as many as positives). */
  negatives?: number;
  /** Share of the negatives taken from Fashion-MNIST (default 0.3). */
  fashionFraction?: number;
  /** Folder with the Fashion-MNIST IDX files (default: the usual search). */
  fashionDir?: string;
  seed: number;
  log?: (m: string) => void;
}

export interface BuildDatasetResult {
  file: string;
  faces: number;
  nonFaces: number;
  sources: Record<string, unknown>;
}

const SIZE = 64;
const PIXELS = SIZE * SIZE * 3;

/** Faces in a photo by the reference detector; a centred square when none is found. */
async function facesIn(image: RgbImage): Promise<{ boxes: Box[]; detected: boolean }> {
  const found = await referenceDetect(image, { scoreThreshold: 0.5 });
  if (found.length) return { boxes: found, detected: true };
  const size = 0.6 * Math.min(image.width, image.height);
  return {
    boxes: [{ x: (image.width - size) / 2, y: (image.height - size) / 2, width: size, height: size }],
    detected: false,
  };
}

/** Whether a crop overlaps any face enough to show part of it. */
function touchesFace(crop: Box, faces: Box[]): boolean {
  return faces.some((f) => {
    const ix = Math.max(0, Math.min(crop.x + crop.width, f.x + f.width) - Math.max(crop.x, f.x));
    const iy = Math.max(0, Math.min(crop.y + crop.height, f.y + f.height) - Math.max(crop.y, f.y));
    return (ix * iy) / (f.width * f.height) > 0.2 || iou(crop, f) > 0.05;
  });
}

export async function buildFaceDataset(options: BuildDatasetOptions): Promise<BuildDatasetResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const root = faceDataRoot(options.dataDir);
  const folders = faceFolders(root);
  requireFolder(folders.london, 'the London face set (lab2-faces/london)');
  requireFolder(folders.nonFaces, 'the CC0 photos (lab2-faces/nonface-cc0)');
  const londonFiles = listImages(folders.london);
  const photoFiles = listImages(folders.nonFaces);
  if (!londonFiles.length) throw new Error(`${folders.london} holds no .jpg or .png images`);
  if (!photoFiles.length) throw new Error(`${folders.nonFaces} holds no .jpg or .png images`);
  const rng = new Rng(options.seed);
  const augmentations = options.augmentations ?? 40;

  // Positives.
  const positives: RgbImage[] = [];
  let detected = 0;
  let fallback = 0;
  for (const file of londonFiles) {
    const image = readImage(file);
    const { boxes, detected: found } = await facesIn(image);
    if (found) detected += boxes.length;
    else fallback++;
    for (const face of boxes) {
      for (let a = 0; a < augmentations; a++) {
        let crop = resizeBilinear(cropImage(image, faceCropBox(face, image.width, image.height, rng)), SIZE, SIZE);
        if (rng.next() < 0.5) crop = flipHorizontal(crop);
        positives.push(applyJitter(crop, randomJitter(rng)));
      }
    }
  }
  log(
    `positives: ${positives.length} from ${londonFiles.length} London photos (${detected} faces detected, ${fallback} centred crops)`,
  );

  // Negatives.
  const nNeg = options.negatives ?? positives.length;
  const nFashion = Math.round(nNeg * (options.fashionFraction ?? 0.3));
  const nCrops = nNeg - nFashion;
  const photos: { image: RgbImage; faces: Box[] }[] = [];
  for (const file of photoFiles) {
    const image = readImage(file);
    photos.push({ image, faces: await referenceDetect(image, { scoreThreshold: 0.3 }) });
  }
  const negatives: RgbImage[] = [];
  let rejected = 0;
  while (negatives.length < nCrops) {
    const { image, faces } = photos[rng.int(photos.length)];
    const short = Math.min(image.width, image.height);
    // From 10% to all of the shorter side: the range of the detector's windows.
    const size = Math.max(16, Math.round(short * (0.1 + 0.9 * rng.next())));
    const box = { x: rng.int(image.width - size + 1), y: rng.int(image.height - size + 1), width: size, height: size };
    if (touchesFace(box, faces)) {
      if (++rejected > 100 * nCrops)
        throw new Error(`${folders.nonFaces}: every crop touches a face; add photos without people`);
      continue;
    }
    let crop = resizeBilinear(cropImage(image, box), SIZE, SIZE);
    if (rng.next() < 0.5) crop = flipHorizontal(crop);
    negatives.push(crop);
  }
  let fashionDir = '';
  if (nFashion > 0) {
    const fashion = await loadDigits({ split: 'train', dir: options.fashionDir });
    fashionDir = path.dirname(fashion.files.images);
    const pixels = fashion.width * fashion.height;
    for (let k = 0; k < nFashion; k++) {
      const i = rng.int(fashion.n);
      const grey = greyToRgb(fashion.images.subarray(i * pixels, (i + 1) * pixels), fashion.width, fashion.height);
      negatives.push(resizeBilinear(grey, SIZE, SIZE));
    }
  }
  log(
    `negatives: ${nCrops} crops of ${photoFiles.length} CC0 photos (${rejected} rejected for touching a face), ${nFashion} Fashion-MNIST images`,
  );

  // Shuffle faces and non-faces together, convert to the file's BGR order.
  const all = [...positives.map((img) => ({ img, label: 1 })), ...negatives.map((img) => ({ img, label: 0 }))];
  rng.shuffle(all);
  const images = new Uint8Array(all.length * PIXELS);
  const labels = new Float32Array(all.length);
  all.forEach(({ img, label }, i) => {
    rgbToBgrInto(img.data, images, i * PIXELS);
    labels[i] = label;
  });
  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const sources = {
    london: {
      dir: path.relative(root, folders.london),
      photos: londonFiles.length,
      facesDetected: detected,
      centredCrops: fallback,
    },
    nonfaceCc0: {
      dir: path.relative(root, folders.nonFaces),
      photos: photoFiles.length,
      crops: nCrops,
      rejectedCrops: rejected,
    },
    fashionMnist: { dir: fashionDir, images: nFashion },
  };
  const provenance = {
    generator: `@introdl/lab2-vision ${version} build-dataset`,
    seed: options.seed,
    created: new Date().toISOString(),
    layout: 'images (N,64,64,3) uint8 BGR; labels (N,1) float32, 1 = face',
    augmentation: {
      perFace: augmentations,
      flip: 0.5,
      cropMargin: 1.2,
      scaleJitter: 0.08,
      shiftJitter: 0.06,
      colorJitter: 0.2,
    },
    negatives: { cropFraction: [0.1, 1], fashionFraction: options.fashionFraction ?? 0.3, flip: 0.5 },
    sources,
  };
  await writeFaceFile(options.output, images, labels, {
    seed: options.seed,
    created: provenance.created,
    faces: positives.length,
    non_faces: negatives.length,
    provenance,
  });
  log(`wrote ${options.output}: ${all.length} images (${positives.length} faces, ${negatives.length} not)`);
  return { file: options.output, faces: positives.length, nonFaces: negatives.length, sources };
}
