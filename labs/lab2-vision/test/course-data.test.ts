/**
 * Checks on the course's real files, run only where they are: the data root (INTRODL_DATA) with
 * lab2-faces/, and for the detection acceptance a trained face model named by
 * INTRODL_LAB2_CHECKPOINT (a run folder of `introdl lab2 train --model classifier|dbvae`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { dataRoot, useBackend } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectImages } from '../src/detect/detect-images.js';
import { buildFaceDataset } from '../src/faces/build-dataset.js';
import { faceFolders, testFaceFiles } from '../src/faces/course-data.js';
import { FaceDataset } from '../src/faces/face-dataset.js';
import { faceTensorFromFiles } from '../src/faces/face-input.js';
import { tempDir } from './fixtures.js';

const root = dataRoot();
const folders = root ? faceFolders(root) : undefined;
const hasTestFaces = Boolean(folders && existsSync(folders.testFaces));
const hasBuildData = Boolean(folders && existsSync(folders.london) && existsSync(folders.nonFaces));
const checkpoint = process.env.INTRODL_LAB2_CHECKPOINT;
const photo = (name: string) => (folders ? path.join(folders.nonFaces, name) : '');
const hasPhotos = Boolean(folders && existsSync(photo('astronaut.png')) && existsSync(photo('coffee.png')));

beforeAll(async () => {
  await useBackend('wasm');
});

describe('the course data (skipped without INTRODL_DATA/lab2-faces)', () => {
  it.skipIf(!hasTestFaces)("loads the course's 20 test faces, 5 per group, as 64×64 RGB", () => {
    const files = testFaceFiles(folders!.testFaces);
    expect(Object.values(files).map((f) => f.length)).toEqual([5, 5, 5, 5]);
    const x = faceTensorFromFiles(Object.values(files).flat());
    expect(x.shape).toEqual([20, 64, 64, 3]);
    x.dispose();
  });

  it.skipIf(!hasBuildData)(
    'builds an offline training set from the London set and the CC0 photos',
    async () => {
      const out = path.join(tempDir(), 'offline.h5');
      const r = await buildFaceDataset({ output: out, augmentations: 2, seed: 1, log: () => {} });
      const data = await FaceDataset.open(out);
      expect(data.faceCount).toBe(r.faces);
      expect(r.faces).toBeGreaterThan(100);
    },
    600_000,
  );

  it.skipIf(!hasPhotos || !checkpoint)(
    'detects the face in astronaut.png in agreement with the reference (IoU ≥ 0.5) and none in coffee.png',
    async () => {
      const r = await detectImages({
        checkpoint: checkpoint!,
        images: [photo('astronaut.png'), photo('coffee.png')],
        seed: 1,
        out: path.join(tempDir(), 'detect'),
        log: () => {},
      });
      const [astronaut, coffee] = r.results;
      expect(astronaut.reference!.length).toBe(1);
      expect(astronaut.agreement![0]).toBeGreaterThanOrEqual(0.5);
      expect(coffee.boxes).toEqual([]);
    },
    600_000,
  );
});
