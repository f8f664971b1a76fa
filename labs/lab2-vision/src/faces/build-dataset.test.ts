import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MissingDataError, Rng, useBackend } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomImage, skimagePhoto, tempDir, writeJpeg } from '../../test/fixtures.js';
import { sampleSquare } from '../image/affine.js';
import { readImage } from '../image/codec.js';
import type { RgbImage } from '../image/rgb-image.js';
import { buildFaceDataset, type DatasetSplit } from './build-dataset.js';
import { FaceDataset } from './face-dataset.js';

/**
 * build-dataset on a small data root made from one real face (scikit-image's astronaut.png, which
 * Debian's python3-skimage installs): every "person" is a different crop of it, so the reference
 * detector finds a face in each, and every rule about people, splits and files can be checked.
 */
const astronaut = skimagePhoto('astronaut.png');

/** A portrait of "person" k: the astronaut's head, framed a little differently each time. */
function portrait(photo: RgbImage, k: number): RgbImage {
  return sampleSquare(photo, { cx: 222 + (k % 3) * 6, cy: 140 + (k % 2) * 6, size: 260 + 8 * k }, 200);
}

function writeDataRoot(photo: RgbImage): string {
  const root = tempDir();
  const base = path.join(root, 'lab2-faces');
  const rows = ['file,skin,gender,ita'];
  const groups = [
    ['lighter', 'female'],
    ['lighter', 'male'],
    ['darker', 'female'],
    ['darker', 'male'],
  ];
  // Three people a group, two photos each (neutral _03 and smiling _08), as the London set names them.
  groups.forEach(([skin, gender], g) => {
    for (let i = 0; i < 3; i++) {
      const person = String(10 * g + i + 1).padStart(3, '0');
      for (const [pose, k] of [
        ['03', 0],
        ['08', 1],
      ] as const) {
        const file = `${pose === '03' ? 'neutral' : 'smiling'}/${person}_${pose}.jpg`;
        writeJpeg(path.join(base, 'london', file), portrait(photo, 3 * g + i + k));
        rows.push(`${file},${skin},${gender},50`);
      }
    }
  });
  writeFileSync(path.join(base, 'london', 'groups.csv'), `${rows.join('\n')}\n`);
  // An extra set of five people, one photo each.
  const extra = ['file,person,gender'];
  for (let i = 0; i < 5; i++) {
    writeJpeg(path.join(base, 'extra', 'officials', 'images', `p${i}.jpg`), portrait(photo, 10 + i));
    extra.push(`images/p${i}.jpg,P${i},${i % 2 ? 'male' : 'female'}`);
  }
  writeFileSync(path.join(base, 'extra', 'officials', 'labels.csv'), `${extra.join('\n')}\n`);
  const cc0 = path.join(base, 'nonface-cc0');
  mkdirSync(cc0, { recursive: true });
  const rng = new Rng(1);
  for (const name of ['noise-a', 'noise-b', 'astronaut']) {
    const img = randomImage(160, 120, rng);
    // Smooth the noise a little so that the photos are not all high-frequency.
    for (let i = 3; i < img.data.length; i++) img.data[i] = (img.data[i] + img.data[i - 3]) >> 1;
    writeJpeg(path.join(cc0, `${name}.jpg`), img);
  }
  return root;
}

describe.skipIf(!astronaut)('build-dataset (on faces cut from astronaut.png)', () => {
  let root: string;
  let out: string;
  let split: DatasetSplit;
  let built: Awaited<ReturnType<typeof buildFaceDataset>>;

  beforeAll(async () => {
    // The reference face detector runs much faster on wasm than on the cpu backend.
    await useBackend('wasm');
    root = writeDataRoot(readImage(astronaut!));
    out = path.join(tempDir(), 'offline.h5');
    built = await buildFaceDataset({
      dataDir: root,
      output: out,
      augmentations: 3,
      heldOut: 0.34,
      validation: 0.2,
      holdOutPhotos: ['astronaut.jpg'],
      seed: 7,
      log: () => {},
    });
    split = built.split;
  }, 300_000);

  it('splits the London people by person within each group, and holds out extra-set people for validation', () => {
    expect(split.london.heldOut).toHaveLength(4);
    for (const g of ['LF', 'LM', 'DF', 'DM'])
      expect(split.london.strata[g]).toEqual({
        train: { people: 2, photos: 4 },
        heldOut: { people: 1, photos: 2 },
      });
    expect(split.london.train.filter((p) => split.london.heldOut.includes(p))).toEqual([]);
    expect(split.extra.officials.heldOut).toHaveLength(2);
    expect(split.heldOutPhotos).toEqual(['astronaut.jpg']);
  });

  it('writes the train_face.h5 layout: faces from training people only, non-faces, the mining pool last, a validation set', async () => {
    const data = await FaceDataset.open(out);
    // 8 London training people (2 photos each) and 3 extra-set training people, 3 crops a photo.
    expect(built.sources.noFaceFound).toEqual([]);
    expect(data.faceCount).toBe(19 * 3);
    expect(built.faces).toBe(57);
    expect(built.nonFaces).toBe(Math.round(57 * 1.5));
    const poolStart = Number(data.attributes.mining_pool_start);
    expect(poolStart).toBe(built.faces + built.nonFaces);
    expect(data.size - poolStart).toBe(built.pool);
    expect(Array.from(data.labels.subarray(poolStart)).every((v) => v === 0)).toBe(true);
    const val = await FaceDataset.open(out, { images: 'validation_images', labels: 'validation_labels' });
    // Two framings of each of the 2 held-out extra-set people's faces.
    expect(val.faceCount).toBe(4);
    expect(val.nonFaceCount).toBe(built.validation.nonFaces);
    // And two of each of their faces wearing painted accessories, the kinds recorded.
    const occluded = await FaceDataset.open(out, {
      images: 'validation_occluded_images',
      labels: 'validation_occluded_labels',
    });
    expect(occluded.faceCount).toBe(4);
    expect(built.validation.occludedFaces).toBe(4);
    expect(JSON.parse(String(data.attributes.validation_occluded_kinds))).toHaveLength(4);
    // The split is in the file, as JSON, with the person ids.
    const recorded = JSON.parse(String(data.attributes.split)) as DatasetSplit;
    expect(recorded.london.heldOut).toEqual(split.london.heldOut);
    const provenance = JSON.parse(String(data.attributes.provenance));
    expect(provenance.sources.nonfaceCc0.photos).toEqual(['noise-a.jpg', 'noise-b.jpg']);
    expect(provenance.positives.perPhoto).toBe(3);
  });

  it('is reproducible: the same seeds write the same images; another crop seed keeps the same people', async () => {
    const again = path.join(tempDir(), 'again.h5');
    const other = path.join(tempDir(), 'other.h5');
    const options = { dataDir: root, augmentations: 3, heldOut: 0.34, validation: 0.2, log: () => {} };
    const b = await buildFaceDataset({ ...options, output: again, holdOutPhotos: ['astronaut.jpg'], seed: 7 });
    const c = await buildFaceDataset({ ...options, output: other, holdOutPhotos: ['astronaut.jpg'], seed: 8 });
    const [da, db, dc] = [await FaceDataset.open(out), await FaceDataset.open(again), await FaceDataset.open(other)];
    expect(Buffer.from(da.images).equals(Buffer.from(db.images))).toBe(true);
    expect(Buffer.from(da.images).equals(Buffer.from(dc.images))).toBe(false);
    expect(b.split.london.heldOut).toEqual(split.london.heldOut);
    expect(c.split.london.heldOut).toEqual(split.london.heldOut);
  }, 300_000);

  it('fails with one MissingDataError naming the folder when the course data is absent', async () => {
    const empty = tempDir();
    await expect(
      buildFaceDataset({ dataDir: empty, output: path.join(empty, 'x.h5'), seed: 1, log: () => {} }),
    ).rejects.toThrow(MissingDataError);
    await expect(
      buildFaceDataset({ dataDir: empty, output: path.join(empty, 'x.h5'), seed: 1, log: () => {} }),
    ).rejects.toThrow(/lab2-faces\/london: the London face set/);
  });

  it('names the file when a photo is broken', async () => {
    const broken = writeDataRoot(readImage(astronaut!));
    const bad = path.join(broken, 'lab2-faces', 'nonface-cc0', 'noise-b.jpg');
    writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]));
    const output = path.join(broken, 'x.h5');
    await expect(buildFaceDataset({ dataDir: broken, output, seed: 1, log: () => {} })).rejects.toThrow(
      /noise-b\.jpg: is a damaged or truncated JPEG file/,
    );
    expect(existsSync(output)).toBe(false);
  });
});
