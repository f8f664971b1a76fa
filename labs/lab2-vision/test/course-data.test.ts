/**
 * Lab 2 on the course's real files under INTRODL_DATA (CI sets it to ../shared/data). Nothing here
 * skips when INTRODL_DATA is set: a missing folder under it is a failure, not a skip. A developer
 * without the data (INTRODL_DATA unset) skips the file.
 *
 * The training here is CI-sized (a few dozen people a source, a few hundred steps); the full
 * chain's figures are in docs/lab2.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dataRoot, useBackend } from '@introdl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { iou } from '../src/detect/boxes.js';
import { detectImages } from '../src/detect/detect-images.js';
import { referenceDetect } from '../src/detect/reference-detector.js';
import { buildFaceDataset, type DatasetSplit } from '../src/faces/build-dataset.js';
import { extraFaceSets, faceFolders, londonPhotos, testFaceFiles } from '../src/faces/course-data.js';
import { evaluateFaces } from '../src/faces/evaluate-faces.js';
import { FaceDataset } from '../src/faces/face-dataset.js';
import { faceTensorFromFiles } from '../src/faces/face-input.js';
import { splitByPerson } from '../src/faces/person-split.js';
import { trainFaces } from '../src/faces/train-faces.js';
import { readImage } from '../src/image/codec.js';
import { tempDir } from './fixtures.js';

const root = dataRoot();
const folders = root ? faceFolders(root) : undefined;
const photo = (name: string) => path.join(folders!.nonFaces, name);

describe.skipIf(!root)('the course data under INTRODL_DATA', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it("loads the course's 20 test faces, 5 per group, as 64×64 RGB", () => {
    const files = testFaceFiles(folders!.testFaces);
    expect(Object.values(files).map((f) => f.length)).toEqual([5, 5, 5, 5]);
    const x = faceTensorFromFiles(Object.values(files).flat());
    expect(x.shape).toEqual([20, 64, 64, 3]);
    x.dispose();
  });

  it('reads every face source: the London set by groups.csv and each extra set by its labels.csv', () => {
    const london = londonPhotos(folders!.london);
    expect(london).toHaveLength(204);
    expect(new Set(london.map((p) => p.person)).size).toBe(102);
    const extras = extraFaceSets(folders!.extra);
    expect(extras.map((s) => [s.name, s.photos.length])).toEqual([
      ['frl-canada', 40],
      ['us-congress-official', 1609],
    ]);
  });

  it('decodes the single-channel grey Congress portraits into three equal channels', () => {
    const congress = extraFaceSets(folders!.extra).find((s) => s.name === 'us-congress-official')!;
    // A000031.jpg is a one-component (greyscale) JPEG.
    const grey = readImage(congress.photos.find((p) => p.person === 'A000031')!.file);
    for (let i = 0; i < grey.data.length; i += 3 * 97) {
      expect(grey.data[i + 1]).toBe(grey.data[i]);
      expect(grey.data[i + 2]).toBe(grey.data[i]);
    }
  });

  it('splits the London people by person, stratified by skin × gender: 31 held out, none on both sides', () => {
    const london = londonPhotos(folders!.london);
    const split = splitByPerson(london, {
      fraction: 0.3,
      seed: 1,
      stratifiedBy: 'skin × gender',
      stratum: (p) => p.group!,
    });
    const held = new Set(split.heldOut);
    expect(split.train.filter((p) => held.has(p))).toEqual([]);
    expect(
      Object.fromEntries(Object.entries(split.strata).map(([g, c]) => [g, [c.train.people, c.heldOut.people]])),
    ).toEqual({ DF: [3, 2], DM: [5, 2], LF: [31, 13], LM: [32, 14] });
    // A person's neutral and smiling photos are in one group, so photos follow people exactly.
    for (const p of london) expect(held.has(p.person) || split.train.includes(p.person)).toBe(true);
  });

  it('finds the one face in astronaut.png with the reference detector, and none in coffee.png', async () => {
    const faces = await referenceDetect(readImage(photo('astronaut.png')));
    expect(faces).toHaveLength(1);
    // PROVENANCE.md: the face proper is about x 170–270, y 75–165.
    expect(iou(faces[0], { x: 170, y: 75, width: 100, height: 90 })).toBeGreaterThan(0.5);
    expect(await referenceDetect(readImage(photo('coffee.png')))).toEqual([]);
  });

  describe('a CI-sized build, training, evaluation and detection', () => {
    const dir = tempDir();
    const file = path.join(dir, 'faces.h5');
    const runDir = path.join(dir, 'cnn');
    let split: DatasetSplit;

    beforeAll(async () => {
      const built = await buildFaceDataset({
        output: file,
        augmentations: 3,
        maxPeoplePerSource: 50,
        seed: 1,
        log: () => {},
      });
      split = built.split;
      await trainFaces({
        model: 'classifier',
        facesFile: file,
        steps: 240,
        seed: 1,
        out: runDir,
        progress: 'silent',
        log: () => {},
      });
    }, 600_000);

    it('records the person split and the held-out photos in the file, and keeps them out of it', async () => {
      const data = await FaceDataset.open(file);
      const recorded = JSON.parse(String(data.attributes.split)) as DatasetSplit;
      expect(recorded).toEqual(split);
      expect(recorded.heldOutPhotos).toEqual(['astronaut.png', 'coffee.png']);
      const held = new Set(recorded.london.heldOut);
      expect(recorded.london.train.some((p) => held.has(p))).toBe(false);
      expect(recorded.london.heldOut.length).toBeGreaterThan(5);
      const provenance = JSON.parse(String(data.attributes.provenance));
      expect(provenance.sources.nonfaceCc0.photos).not.toContain('astronaut.png');
      expect(provenance.sources.nonfaceCc0.photos).not.toContain('coffee.png');
      // Faces from each source, 3 crops a training photo.
      const sources = provenance.sources.faceSources as Record<string, { faces: number }>;
      expect(Object.keys(sources).sort()).toEqual(['extra/frl-canada', 'extra/us-congress-official', 'london']);
      expect(data.faceCount).toBeGreaterThan(300);
      // The run that trained on it carries the London split, for evaluate.
      const run = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8'));
      expect(run.config.split.london.heldOut).toEqual(recorded.london.heldOut);
    });

    it('separates held-out people from non-face crops of held-out photos far better than chance', async () => {
      const r = await evaluateFaces({
        checkpoints: [runDir],
        resamples: 200,
        cropsPerPhoto: 150,
        seed: 1,
        out: path.join(dir, 'eval'),
        log: () => {},
      });
      const london = r.sets.find((s) => s.set === 'london')!;
      expect(london.note).toMatch(/^\*\*Held-out people only\*\*/);
      const m = london.models[0];
      // Every group, and n = the held-out photos of the held-out people (2 a person).
      expect(m.groups.map((g) => g.group)).toEqual(['LF', 'LM', 'DF', 'DM']);
      for (const g of m.groups) expect(g.n).toBe(split.london.strata[g.group].heldOut.photos);
      const facesFound = m.detected / m.total;
      const nonFaces = r.nonFaces[0];
      expect(nonFaces.n).toBe(300);
      // Balanced accuracy over held-out faces and non-faces; chance is 0.5.
      expect((facesFound + nonFaces.belowHalf) / 2).toBeGreaterThan(0.75);
      expect(r.sets[0].models[0].total).toBe(20);
    });

    it('detects with the threshold the run calibrated on its validation people, and draws the boxes', async () => {
      const calibrated = JSON.parse(readFileSync(path.join(runDir, 'outputs', 'detector.json'), 'utf8'));
      expect(calibrated.calibration.faces).toBeGreaterThan(5);
      expect(calibrated.threshold).toBeGreaterThanOrEqual(0.5);
      const r = await detectImages({
        checkpoint: runDir,
        images: [photo('astronaut.png'), photo('coffee.png')],
        seed: 1,
        out: path.join(dir, 'detect'),
        log: () => {},
      });
      for (const d of r.results) {
        expect(d.threshold).toBe(calibrated.threshold);
        // Every kept box passed the threshold and is the face scale of a window.
        for (const b of d.boxes) expect(b.score).toBeGreaterThanOrEqual(calibrated.threshold);
        expect(d.boxes.length).toBeLessThanOrEqual(d.candidates);
      }
      expect(r.results[0].reference).toHaveLength(1);
    });
  });
});
