import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MissingDataError, Rng } from '@introdl/core';
import { windowBoxes } from '../detect/sliding-window.js';
import { loadDigits } from '../digits/data.js';
import { type AccessoryKind, paintRandomAccessories, randomFaceGeometry } from '../image/accessories.js';
import { sampleSquare } from '../image/affine.js';
import { readImage } from '../image/codec.js';
import { compositeInEllipse } from '../image/composite.js';
import { randomErase } from '../image/occlusion.js';
import {
  applyPhotometric,
  type ColourStats,
  centralColourStats,
  DOMAIN_RANDOMISATION,
  drawPhotometric,
  type PhotometricSettings,
  scrambleNonFace,
  transferColour,
} from '../image/photometric.js';
import { resizeBilinear } from '../image/resize.js';
import { type Box, cropImage, greyToRgb, type RgbImage } from '../image/rgb-image.js';
import {
  extraFaceSets,
  type FacePhoto,
  faceDataRoot,
  faceFolders,
  listImages,
  londonPhotos,
  requireFolder,
} from './course-data.js';
import {
  headBox,
  negativeWindow,
  POSITIVE_FRAMING,
  type PositiveFraming,
  partialFaceWindow,
  positiveWindow,
  showsHead,
  showsPartOfFace,
} from './crop-windows.js';
import { anyFaces, portraitFace } from './face-boxes.js';
import { type PersonSplit, splitByPerson } from './person-split.js';
import { rgbToBgrInto, writeFaceFile } from './write-face-file.js';

/**
 * `introdl lab2 build-dataset`: an offline face training set in the course's `train_face.h5`
 * layout, built from every face source under `lab2-faces/` (the London set and each set under
 * `extra/`, by their label tables) and the CC0 photos:
 *
 * - **who trains and who is held out**, by person: the London set's people are split (seeded,
 *   stratified by skin × gender) into training and held-out people, and `evaluate` reports the
 *   London groups on the held-out ones only; each extra set holds out a share of its people as a
 *   validation set (the detector's threshold is calibrated on it);
 * - **positives**: `augmentations` crops of each training photo's face (found by the reference
 *   detector), looser and tighter, shifted, turned a little, mirrored, some pasted onto pieces of
 *   the CC0 photos, then domain-randomised (grey, exposure, colour cast, gamma, side light,
 *   down-sampled to as little as 24 px and up again, blur, noise);
 * - **negatives**, randomised the same way so that colour, grey or blur say nothing about the
 *   label: windows of the CC0 photos clear of any face, and windows of the training portraits
 *   clear of the head (suits, flags, bookshelves, backdrops);
 * - a **mining pool** at the end of the file: the sliding-window detector's own windows over the
 *   same face-free photos and regions, unaugmented. Training leaves them out at first, then runs
 *   the model over them, adds the windows it mistakes for faces to the negatives and trains on
 *   (hard-negative mining);
 * - a **validation set** (`validation_images`, `validation_labels`): faces and face-free windows of
 *   the held-out extra-set people; and `validation_occluded_*`: the same people's faces framed and
 *   randomised as training faces are, each with accessories painted on (dark glasses, a cap, a
 *   scarf, a hand), the same for every `seed` (drawn from `splitSeed`). Training reports its recall;
 *   nothing is calibrated on it.
 *
 * The photos named in `holdOutPhotos` (astronaut.png and coffee.png, the detection test photos)
 * are never used. Everything random comes from `seed` (the split from `splitSeed`), and the file's
 * attributes record the split, the sources, the settings and the counts.
 */

export interface BuildDatasetOptions {
  dataDir?: string;
  output: string;
  seed: number;
  /** Augmented crops of each training face photo (default 4). */
  augmentations?: number;
  /** Non-faces per face (default 1.5). */
  negativeRatio?: number;
  /** Mining-pool windows per face (default 3). */
  poolRatio?: number;
  /** Share of each London skin × gender group's people held out for evaluation (default 0.3). */
  heldOut?: number;
  /** Share of each extra set's people held out for validation (default 0.1). */
  validation?: number;
  /** Seed of the person split (default 1; fixed, so other seeds change the crops but not who is held out). */
  splitSeed?: number;
  /** CC0 photos never used (default astronaut.png and coffee.png, the detection test photos). */
  holdOutPhotos?: string[];
  /** Use at most this many people of each face source (quick builds and tests). */
  maxPeoplePerSource?: number;
  /** Probability that a positive is pasted onto a piece of a CC0 photo (default 0.4). */
  composite?: number;
  /** Probability of hiding a random rectangle of an image, face or not (default 0.2). */
  erase?: number;
  /** Probability that a face gets accessories painted on: dark glasses, a cap, a scarf, a hand (default 0.3). */
  accessories?: number;
  /** Probability that a non-face gets the same accessories at a random place (default 0.1). */
  nonFaceAccessories?: number;
  /** Probability that a non-face is recoloured with a training face's colours (default 0.25). */
  skinColours?: number;
  /** Probability that a non-face gets colours and orientations no face has (default 0.4). */
  scramble?: number;
  /** Share of the non-faces taken from Fashion-MNIST, domain-randomised like the rest (default 0). */
  fashionFraction?: number;
  fashionDir?: string;
  photometric?: PhotometricSettings;
  framing?: PositiveFraming;
  log?: (m: string) => void;
}

export interface BuildDatasetResult {
  file: string;
  faces: number;
  nonFaces: number;
  pool: number;
  validation: { faces: number; nonFaces: number; occludedFaces: number };
  split: DatasetSplit;
  sources: Record<string, unknown>;
}

/** The split build-dataset records in the file's `split` attribute. */
export interface DatasetSplit {
  london: PersonSplit;
  /** Per extra set: the people held out for validation. */
  extra: Record<string, PersonSplit>;
  /** CC0 photos left out of the data (the detection test photos). */
  heldOutPhotos: string[];
}

export const DEFAULT_HELD_OUT_PHOTOS = ['astronaut.png', 'coffee.png'];
const SIZE = 64;
const PIXELS = SIZE * SIZE * 3;
/** Face-free windows tried per validation portrait (the threshold's false-positive rate rests on them). */
const VALIDATION_WINDOWS = 16;
/** Faces with accessories per validation photo (validation_occluded). */
const VALIDATION_OCCLUDED = 2;

/** A CC0 photo with every face the reference detector sees in it (their heads are kept out of negatives). */
interface Photo {
  name: string;
  image: RgbImage;
  heads: Box[];
}

/** Keeps at most `max` people of a source (seeded), all photos of each. */
function limitPeople(photos: FacePhoto[], max: number | undefined, rng: Rng): FacePhoto[] {
  if (!max) return photos;
  const people = [...new Set(photos.map((p) => p.person))].sort();
  if (people.length <= max) return photos;
  rng.shuffle(people);
  const keep = new Set(people.slice(0, max));
  return photos.filter((p) => keep.has(p.person));
}

/** Progress every ~10% of a long loop: done/total, rate and time left. */
function progressLogger(label: string, total: number, log: (m: string) => void) {
  const t0 = performance.now();
  let next = Math.ceil(total / 10);
  return (done: number) => {
    if (done < next && done !== total) return;
    next = done + Math.ceil(total / 10);
    const s = (performance.now() - t0) / 1000;
    const rate = done / Math.max(s, 1e-3);
    log(
      `  ${label}: ${done}/${total} (${rate.toFixed(1)}/s, ${s.toFixed(0)} s${done < total ? `, ~${Math.ceil((total - done) / rate)} s left` : ''})`,
    );
  };
}

export async function buildFaceDataset(options: BuildDatasetOptions): Promise<BuildDatasetResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const root = faceDataRoot(options.dataDir);
  const folders = faceFolders(root);
  requireFolder(folders.london, 'the London face set (lab2-faces/london)');
  requireFolder(folders.nonFaces, 'the CC0 photos (lab2-faces/nonface-cc0)');
  const augmentations = options.augmentations ?? 4;
  const negativeRatio = options.negativeRatio ?? 1.5;
  const poolRatio = options.poolRatio ?? 3;
  const splitSeed = options.splitSeed ?? 1;
  const composite = options.composite ?? 0.4;
  const scramble = options.scramble ?? 0.4;
  const erase = options.erase ?? 0.2;
  const accessories = options.accessories ?? 0.3;
  const nonFaceAccessories = options.nonFaceAccessories ?? 0.1;
  const skinColours = options.skinColours ?? 0.25;
  const fashionFraction = options.fashionFraction ?? 0;
  const photometric = options.photometric ?? DOMAIN_RANDOMISATION;
  const framing = options.framing ?? POSITIVE_FRAMING;
  const holdOut = options.holdOutPhotos ?? DEFAULT_HELD_OUT_PHOTOS;
  const rng = new Rng(options.seed);

  // --- Who is in which split (by person, seeded by splitSeed only).
  const limitRng = new Rng(splitSeed + 1000);
  const london = limitPeople(londonPhotos(folders.london), options.maxPeoplePerSource, limitRng);
  const londonSplit = splitByPerson(london, {
    fraction: options.heldOut ?? 0.3,
    seed: splitSeed,
    stratifiedBy: 'skin × gender',
    stratum: (p) => p.group!,
  });
  const extras = extraFaceSets(folders.extra).map((set) => {
    const photos = limitPeople(set.photos, options.maxPeoplePerSource, limitRng);
    const split = splitByPerson(photos, {
      fraction: options.validation ?? 0.1,
      seed: splitSeed,
      stratifiedBy: 'gender',
      stratum: (p) => p.gender || 'unknown',
    });
    return { ...set, photos, split };
  });
  const londonHeldOut = new Set(londonSplit.heldOut);
  const training: FacePhoto[] = london.filter((p) => !londonHeldOut.has(p.person));
  const validation: FacePhoto[] = [];
  for (const set of extras) {
    const held = new Set(set.split.heldOut);
    for (const p of set.photos) (held.has(p.person) ? validation : training).push(p);
  }
  const split: DatasetSplit = {
    london: londonSplit,
    extra: Object.fromEntries(extras.map((s) => [s.name, s.split])),
    heldOutPhotos: holdOut,
  };
  log(
    `people: London ${londonSplit.train.length} training / ${londonSplit.heldOut.length} held out (${Object.entries(
      londonSplit.strata,
    )
      .map(([g, c]) => `${g} ${c.train.people}/${c.heldOut.people}`)
      .join(
        ', ',
      )}); ${extras.map((s) => `${s.name} ${s.split.train.length} training / ${s.split.heldOut.length} validation`).join('; ') || 'no extra sets'}`,
  );

  // --- The CC0 photos (minus the held-out ones) and the faces in them.
  const photoFiles = listImages(folders.nonFaces).filter((f) => !holdOut.includes(path.basename(f)));
  if (!photoFiles.length)
    throw new MissingDataError(`${folders.nonFaces} holds no .jpg or .png images besides ${holdOut.join(', ')}`);
  const photos: Photo[] = [];
  for (const file of photoFiles) {
    const image = readImage(file);
    photos.push({ name: path.basename(file), image, heads: (await anyFaces(image)).map(headBox) });
  }
  const withFaces = photos.filter((p) => p.heads.length).map((p) => `${p.name} (${p.heads.length})`);
  log(
    `CC0 photos: ${photos.length} (held out: ${holdOut.join(', ')}${withFaces.length ? `; faces kept out of the negatives in ${withFaces.join(', ')}` : ''})`,
  );

  /** A random face-free square of a CC0 photo. */
  const photoWindow = (fraction: [number, number] = [0.1, 1]): { photo: Photo; box: Box } => {
    for (;;) {
      const photo = photos[rng.int(photos.length)];
      const box = negativeWindow(photo.image.width, photo.image.height, photo.heads, rng, fraction);
      if (box) return { photo, box };
    }
  };
  /** How the picture was taken (both classes alike), then, sometimes, something in front of it. */
  const randomise = (img: RgbImage) => {
    const taken = applyPhotometric(img, drawPhotometric(rng, photometric));
    return rng.next() < erase ? randomErase(taken, rng) : taken;
  };
  /**
   * A negative from a box: turned a little, maybe mirrored, randomised like the faces; and with
   * probability `scramble`, in colours and orientations no face has (see scrambleNonFace).
   */
  const augmentedNegative = (image: RgbImage, box: Box) => {
    const crop = sampleSquare(image, {
      cx: box.x + box.width / 2,
      cy: box.y + box.height / 2,
      size: box.width,
      angle: (Math.max(-15, Math.min(15, rng.normal() * 6)) * Math.PI) / 180,
      flip: rng.next() < 0.5,
    });
    const u = rng.next();
    const recoloured =
      u < scramble
        ? scrambleNonFace(crop, rng)
        : u < scramble + skinColours && faceColours.length
          ? transferColour(crop, faceColours[rng.int(faceColours.length)])
          : crop;
    const worn =
      rng.next() < nonFaceAccessories
        ? paintRandomAccessories(recoloured, randomFaceGeometry(SIZE, SIZE, rng), rng).image
        : recoloured;
    return randomise(worn);
  };
  /** Colours of the faces made so far (their centres), for recolouring non-faces. */
  const faceColours: ColourStats[] = [];
  /** A mining-pool window: exactly what the detector classifies (crop, bilinear resize, nothing else). */
  const detectorWindow = (image: RgbImage, box: Box) => resizeBilinear(cropImage(image, box), SIZE, SIZE);

  // --- Faces, and the face-free parts of the same portraits.
  const positives: RgbImage[] = [];
  const negatives: RgbImage[] = [];
  const pool: RgbImage[] = [];
  const valFaces: RgbImage[] = [];
  const valNonFaces: RgbImage[] = [];
  const valOccluded: RgbImage[] = [];
  const valOccludedKinds: AccessoryKind[][] = [];
  // Its own stream, from the split seed: the occluded validation faces are the same whatever --seed.
  const valRng = new Rng(splitSeed + 2000);
  const stats = {
    photos: 0,
    noFace: [] as string[],
    composites: 0,
    accessories: 0,
    portraitNegatives: 0,
    partialFaces: 0,
    portraitPool: 0,
  };
  const perSource: Record<string, { photos: number; people: number; faces: number; noFace: number }> = {};
  const all = [...training.map((p) => ({ p, val: false })), ...validation.map((p) => ({ p, val: true }))];
  const progress = progressLogger('portraits', all.length, log);
  const portraitShare = (ratio: number) => (augmentations * ratio) / 2;
  let negDebt = 0;
  let poolDebt = 0;
  for (const [k, { p, val }] of all.entries()) {
    const image = readImage(p.file);
    const face = await portraitFace(image);
    perSource[p.source] ??= { photos: 0, people: 0, faces: 0, noFace: 0 };
    const src = perSource[p.source];
    src.photos++;
    progress(k + 1);
    if (!face) {
      src.noFace++;
      stats.noFace.push(path.relative(root, p.file));
      continue;
    }
    src.faces++;
    const heads = [headBox(face)];
    if (val) {
      // Validation: the face framed as a detector window would frame it, and face-free windows.
      for (let a = 0; a < 2; a++) {
        const size = Math.max(face.width, face.height) * (1 + 0.4 * rng.next());
        valFaces.push(
          sampleSquare(image, { cx: face.x + face.width / 2, cy: face.y + face.height * 0.45, size, flip: a === 1 }),
        );
      }
      for (let a = 0; a < VALIDATION_WINDOWS; a++) {
        const box = negativeWindow(image.width, image.height, heads, rng, [0.12, 0.7]);
        if (box) valNonFaces.push(detectorWindow(image, box));
      }
      for (let a = 0; a < VALIDATION_OCCLUDED; a++) {
        const { window, face: where } = positiveWindow(face, valRng, framing);
        const worn = paintRandomAccessories(sampleSquare(image, window), where, valRng);
        valOccluded.push(applyPhotometric(worn.image, drawPhotometric(valRng, photometric)));
        valOccludedKinds.push(worn.kinds);
      }
      continue;
    }
    stats.photos++;
    for (let a = 0; a < augmentations; a++) {
      const { window, head, face: where } = positiveWindow(face, rng, framing);
      let crop = sampleSquare(image, window);
      if (rng.next() < composite) {
        const { photo, box } = photoWindow([0.1, 0.6]);
        crop = compositeInEllipse(crop, detectorWindow(photo.image, box), head, 1.1 + 0.4 * rng.next());
        stats.composites++;
      }
      // Worn after compositing: a cap or a hand reaches past the head's outline.
      if (rng.next() < accessories) {
        crop = paintRandomAccessories(crop, where, rng).image;
        stats.accessories++;
      }
      const made = randomise(crop);
      positives.push(made);
      if (faceColours.length < 4000) faceColours.push(centralColourStats(made));
    }
    // Face-free windows of this portrait: half of the augmented negatives and of the mining pool
    // come from portraits (what surrounds a face in a photo), the other half from the CC0 photos.
    // One of them shows part of the face without framing it (see partialFaceWindow).
    negDebt += portraitShare(negativeRatio);
    for (let first = true; negDebt >= 1; negDebt--, first = false) {
      const box = first
        ? partialFaceWindow(face, image.width, image.height, rng)
        : negativeWindow(image.width, image.height, heads, rng, [0.12, 0.8]);
      if (!box) continue;
      negatives.push(augmentedNegative(image, box));
      stats.portraitNegatives++;
      if (first) stats.partialFaces++;
    }
    poolDebt += portraitShare(poolRatio);
    const grid = windowBoxes(image.width, image.height).filter((b) => !showsHead(b, heads) || showsPartOfFace(b, face));
    for (; poolDebt >= 1 && grid.length; poolDebt--) {
      pool.push(detectorWindow(image, grid[rng.int(grid.length)]));
      stats.portraitPool++;
    }
  }
  // People whose photos were read (training and validation; London's held-out people are not read).
  for (const [source, counts] of Object.entries(perSource))
    counts.people = new Set(all.filter(({ p }) => p.source === source).map(({ p }) => p.person)).size;
  if (!positives.length)
    throw new MissingDataError(`no face was found in the training photos under ${folders.base}; check the data`);
  log(
    `positives: ${positives.length} from ${stats.photos} training photos (${stats.composites} pasted onto CC0 backgrounds, ${stats.accessories} wearing accessories; no face found in ${stats.noFace.length} photos)`,
  );

  // --- The rest of the negatives and of the pool from the CC0 photos (and Fashion-MNIST if asked).
  const nNeg = Math.round(positives.length * negativeRatio);
  const nFashion = Math.min(Math.round(nNeg * fashionFraction), Math.max(0, nNeg - negatives.length));
  let fashionDir = '';
  if (nFashion > 0) {
    const fashion = await loadDigits({ split: 'train', dir: options.fashionDir });
    fashionDir = path.dirname(fashion.files.images);
    const px = fashion.width * fashion.height;
    for (let k = 0; k < nFashion; k++) {
      const i = rng.int(fashion.n);
      const grey = greyToRgb(fashion.images.subarray(i * px, (i + 1) * px), fashion.width, fashion.height);
      negatives.push(randomise(resizeBilinear(grey, SIZE, SIZE)));
    }
  }
  const photoNegatives = Math.max(0, nNeg - negatives.length);
  for (let k = 0; k < photoNegatives; k++) {
    const { photo, box } = photoWindow();
    negatives.push(augmentedNegative(photo.image, box));
  }
  const photoGrids = photos.map((ph) =>
    windowBoxes(ph.image.width, ph.image.height).filter((b) => !showsHead(b, ph.heads)),
  );
  const nPool = Math.round(positives.length * poolRatio);
  const photoPool = Math.max(0, nPool - pool.length);
  for (let k = 0; k < photoPool; k++) {
    const i = rng.int(photos.length);
    const grid = photoGrids[i];
    if (grid.length) pool.push(detectorWindow(photos[i].image, grid[rng.int(grid.length)]));
  }
  log(
    `negatives: ${negatives.length} (${stats.portraitNegatives} from portraits, ${stats.partialFaces} of them showing part of a face; ${photoNegatives} from CC0 photos, ${nFashion} Fashion-MNIST); mining pool: ${pool.length} detector windows (${stats.portraitPool} from portraits)`,
  );

  // --- Write: training images shuffled, then the mining pool; the validation set beside them.
  const train = [...positives.map((img) => ({ img, label: 1 })), ...negatives.map((img) => ({ img, label: 0 }))];
  rng.shuffle(train);
  const rows = [...train, ...pool.map((img) => ({ img, label: 0 }))];
  const images = new Uint8Array(rows.length * PIXELS);
  const labels = new Float32Array(rows.length);
  rows.forEach(({ img, label }, i) => {
    rgbToBgrInto(img.data, images, i * PIXELS);
    labels[i] = label;
  });
  const val = [...valFaces.map((img) => ({ img, label: 1 })), ...valNonFaces.map((img) => ({ img, label: 0 }))];
  const valImages = new Uint8Array(val.length * PIXELS);
  val.forEach(({ img }, i) => {
    rgbToBgrInto(img.data, valImages, i * PIXELS);
  });
  const valLabels = Float32Array.from(val, (v) => v.label);
  const occludedImages = new Uint8Array(valOccluded.length * PIXELS);
  valOccluded.forEach((img, i) => {
    rgbToBgrInto(img.data, occludedImages, i * PIXELS);
  });

  const version = (
    JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  const sources = {
    faceSources: perSource,
    noFaceFound: stats.noFace,
    nonfaceCc0: { dir: path.relative(root, folders.nonFaces), photos: photos.map((p) => p.name), heldOut: holdOut },
    fashionMnist: { dir: fashionDir, images: nFashion },
  };
  const created = new Date().toISOString();
  const provenance = {
    generator: `@introdl/lab2-vision ${version} build-dataset`,
    seed: options.seed,
    splitSeed,
    created,
    layout:
      'images (N,64,64,3) uint8 BGR; labels (N,1) float32, 1 = face; rows from mining_pool_start on are the mining pool; validation_images / validation_labels alike',
    positives: { perPhoto: augmentations, framing, composite },
    occlusion: { randomErase: erase, appliedTo: 'faces and non-faces alike' },
    accessories: {
      faces: accessories,
      nonFaces: nonFaceAccessories,
      kinds: 'dark glasses, cap or hat with its shadow, scarf or mask, hand; a quarter of the time two',
    },
    photometric,
    negatives: { ratio: negativeRatio, scramble, skinColours, partialFacesPerPortrait: 1, fashionFraction },
    miningPool: { ratio: poolRatio, windows: 'the detector’s own windows (default sizes and stride), unaugmented' },
    sources,
  };
  await writeFaceFile(
    options.output,
    images,
    labels,
    {
      seed: options.seed,
      created,
      faces: positives.length,
      non_faces: negatives.length,
      mining_pool_start: train.length,
      mining_pool_count: pool.length,
      validation_faces: valFaces.length,
      validation_non_faces: valNonFaces.length,
      validation_occluded_faces: valOccluded.length,
      validation_occluded_kinds: valOccludedKinds.map((k) => k.join('+')),
      split,
      provenance,
    },
    [
      { name: 'validation', bgrImages: valImages, labels: valLabels },
      { name: 'validation_occluded', bgrImages: occludedImages, labels: new Float32Array(valOccluded.length).fill(1) },
    ],
  );
  log(
    `wrote ${options.output}: ${train.length} training images (${positives.length} faces, ${negatives.length} not), ${pool.length} mining-pool windows, ${val.length} validation images (${valFaces.length} faces), ${valOccluded.length} validation faces with accessories`,
  );
  return {
    file: options.output,
    faces: positives.length,
    nonFaces: negatives.length,
    pool: pool.length,
    validation: { faces: valFaces.length, nonFaces: valNonFaces.length, occludedFaces: valOccluded.length },
    split,
    sources,
  };
}
