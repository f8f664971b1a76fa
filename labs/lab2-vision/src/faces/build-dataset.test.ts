import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MissingDataError, Rng, useBackend } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  randomImage,
  skimagePhoto,
  syntheticFace,
  tempDir,
  writeDigitFixture,
  writeJpeg,
} from '../../test/fixtures.js';
import { writePng } from '../image/codec.js';
import { buildFaceDataset } from './build-dataset.js';
import { FaceDataset } from './face-dataset.js';

/** A course-style data root with a few London "portraits" and CC0 photos, all generated. */
async function writeDataRoot(): Promise<string> {
  const root = tempDir();
  const rng = new Rng(1);
  const london = path.join(root, 'lab2-faces', 'london', 'neutral_front');
  const photos = path.join(root, 'lab2-faces', 'nonface-cc0');
  mkdirSync(london, { recursive: true });
  mkdirSync(photos, { recursive: true });
  for (let i = 0; i < 3; i++) await writePng(path.join(london, `00${i}_03.png`), syntheticFace(rng, 150));
  writeJpeg(path.join(london, '003_03.jpg'), syntheticFace(rng, 120));
  await writePng(path.join(photos, 'noise.png'), randomImage(200, 150, rng));
  writeJpeg(path.join(photos, 'noise.jpg'), randomImage(160, 160, rng));
  return root;
}

describe('build-dataset', () => {
  const fashionDir = writeDigitFixture(path.join(tempDir(), 'fashion'));
  let root: string;
  beforeAll(async () => {
    // The reference face detector runs much faster on wasm than on the cpu backend.
    await useBackend('wasm');
    root = await writeDataRoot();
  });

  it('writes the train_face.h5 layout with faces, crops and Fashion-MNIST negatives, and records its provenance', async () => {
    const out = path.join(tempDir(), 'offline.h5');
    const r = await buildFaceDataset({
      dataDir: root,
      output: out,
      augmentations: 5,
      fashionFraction: 0.25,
      fashionDir,
      seed: 7,
      log: () => {},
    });
    expect(r.faces).toBe(20);
    expect(r.nonFaces).toBe(20);
    const data = await FaceDataset.open(out);
    expect([data.size, data.faceCount, data.nonFaceCount]).toEqual([40, 20, 20]);
    expect(data.attributes.seed).toBe(7);
    const provenance = JSON.parse(String(data.attributes.provenance));
    expect(provenance.sources.london).toMatchObject({ photos: 4, centredCrops: 4 });
    expect(provenance.sources.nonfaceCc0).toMatchObject({ photos: 2, crops: 15 });
    expect(provenance.sources.fashionMnist.images).toBe(5);
    expect(provenance.augmentation.perFace).toBe(5);
    // The synthetic faces are warm (red > blue); the file stores them BGR and the loader flips back.
    const faces = data.rgbFloats(data.faceIndices);
    let red = 0;
    let blue = 0;
    for (let p = 0; p < faces.length; p += 3) {
      red += faces[p];
      blue += faces[p + 2];
    }
    expect(red).toBeGreaterThan(blue);
  });

  it('is reproducible: the same seed writes the same images', async () => {
    const a = path.join(tempDir(), 'a.h5');
    const b = path.join(tempDir(), 'b.h5');
    for (const f of [a, b])
      await buildFaceDataset({ dataDir: root, output: f, augmentations: 2, fashionDir, seed: 3, log: () => {} });
    const [da, db] = [await FaceDataset.open(a), await FaceDataset.open(b)];
    expect(Buffer.from(da.images).equals(Buffer.from(db.images))).toBe(true);
    expect(Array.from(da.labels)).toEqual(Array.from(db.labels));
  });

  it('fails with a MissingDataError naming the folder when the course data is absent', async () => {
    const empty = tempDir();
    await expect(
      buildFaceDataset({ dataDir: empty, output: path.join(empty, 'x.h5'), seed: 1, log: () => {} }),
    ).rejects.toThrow(MissingDataError);
    await expect(
      buildFaceDataset({ dataDir: empty, output: path.join(empty, 'x.h5'), seed: 1, log: () => {} }),
    ).rejects.toThrow(/lab2-faces\/london: the London face set/);
  });

  const astronaut = skimagePhoto('astronaut.png');
  it.skipIf(!astronaut)(
    'finds the face in a real portrait (astronaut.png from scikit-image) and keeps negatives off it',
    async () => {
      const real = tempDir();
      const london = path.join(real, 'lab2-faces', 'london');
      const photos = path.join(real, 'lab2-faces', 'nonface-cc0');
      mkdirSync(london, { recursive: true });
      mkdirSync(photos, { recursive: true });
      copyFileSync(astronaut!, path.join(london, 'astronaut.png'));
      copyFileSync(astronaut!, path.join(photos, 'astronaut.png'));
      const out = path.join(real, 'real.h5');
      const r = await buildFaceDataset({
        dataDir: real,
        output: out,
        augmentations: 2,
        negatives: 30,
        fashionFraction: 0,
        seed: 1,
        log: () => {},
      });
      expect(r.sources.london).toMatchObject({ facesDetected: 1, centredCrops: 0 });
      expect((r.sources.nonfaceCc0 as { rejectedCrops: number }).rejectedCrops).toBeGreaterThan(0);
      expect(readFileSync(out).subarray(0, 4).toString('latin1')).toBe('\x89HDF');
    },
  );
});
