import { existsSync } from 'node:fs';
import path from 'node:path';
import { MissingDataError, Rng, RunFolder, tf, writeFileAtomic, writePlot } from '@introdl/core';
import { type LoadedModel, loadModel } from '../model-store.js';
import {
  biasChartSpec,
  biasReportMarkdown,
  type SetResult,
  smallSampleNote,
  studioRows,
  summariseModel,
} from './bias-report.js';
import { DEFAULT_HELD_OUT_PHOTOS } from './build-dataset.js';
import {
  FACE_GROUPS,
  type FaceGroup,
  type FacePhoto,
  faceDataRoot,
  faceFolders,
  londonPhotos,
  testFaceFiles,
} from './course-data.js';
import { faceCropTensor } from './face-crop-input.js';
import { FaceDataset } from './face-dataset.js';
import { faceProbabilities, faceTensorFromFiles } from './face-input.js';
import { type HeldOutCrops, heldOutCrops, type NonFaceResult, scoreCrops } from './held-out-crops.js';

/**
 * `introdl lab2 evaluate` for face models: every model given, side by side, on
 * - the course's 20 test faces by group (LF, LM, DF, DM);
 * - the London set's **held-out people only** (the split build-dataset recorded and training
 *   copied into each model's config; with models trained on different splits, only the people
 *   held out of all of them), by skin group × gender;
 * - non-face crops of the photos held out of training (astronaut.png and coffee.png): how often
 *   they stay below P(face) = 0.5.
 * Written as JSON, Markdown and a grouped bar chart (PNG and SVG).
 */

export interface EvaluateFacesOptions {
  checkpoints: string[];
  /** Data root holding lab2-faces/ (else INTRODL_DATA). */
  dataDir?: string;
  /** Explicit folders, overriding the data root's. */
  testFacesDir?: string;
  londonDir?: string;
  /** A face HDF5 file: also report accuracy on a balanced sample of it (the course's check). */
  facesFile?: string;
  sampleSize?: number;
  /** Non-face crops scored per held-out photo (default 300). */
  cropsPerPhoto?: number;
  resamples?: number;
  seed: number;
  out?: string;
  backend?: string;
  device?: string;
  log?: (m: string) => void;
}

export interface EvaluateFacesResult {
  runDir: string;
  sets: SetResult[];
  nonFaces: { label: string; photos: NonFaceResult[]; belowHalf: number; n: number }[];
  trainingSample?: { label: string; accuracy: number; n: number }[];
  files: { json: string; markdown: string; chart: string; chartSvg: string };
}

function labelFor(model: LoadedModel, all: LoadedModel[]): string {
  const base = model.kind === 'dbvae' ? 'DB-VAE' : 'Standard CNN';
  const same = all.filter((m) => m.kind === model.kind);
  return same.length > 1 ? `${base} (${path.basename(path.dirname(path.dirname(model.checkpoint)))})` : base;
}

interface RecordedSplit {
  london?: { heldOut?: string[]; train?: string[] };
  heldOutPhotos?: string[];
}

const splitOf = (m: LoadedModel) => m.config.split as RecordedSplit | undefined;

/**
 * The London people none of the models trained on, and what to say about them. A model without a
 * recorded split (e.g. trained on the course's own file) may have seen anyone: then every London
 * person is used, and the report says so.
 */
function londonPeople(models: LoadedModel[], photos: FacePhoto[]): { keep: Set<string>; note: string } {
  const everyone = new Set(photos.map((p) => p.person));
  const splits = models.map(splitOf);
  if (splits.some((s) => !s?.london?.heldOut))
    return {
      keep: everyone,
      note: `**All ${everyone.size} London people**: ${splits.every((s) => !s?.london?.heldOut) ? 'the models record' : 'a model records'} no person split, so some of these people may have been in the training data.`,
    };
  const keep = new Set(
    [...everyone].filter((p) => splits.every((s) => s!.london!.heldOut!.includes(p) && !s!.london!.train?.includes(p))),
  );
  const same = splits.every((s) => JSON.stringify(s!.london!.heldOut) === JSON.stringify(splits[0]!.london!.heldOut));
  return {
    keep,
    note: `**Held-out people only**: the ${keep.size} of ${everyone.size} London people that build-dataset's person split kept out of training${same ? '' : ' for every model (the models were trained on different splits; only people held out of all of them are used)'}. No photo of these people was trained on.`,
  };
}

export async function evaluateFaces(options: EvaluateFacesOptions): Promise<EvaluateFacesResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  // The data root is optional here: explicit --test-faces / --london folders are enough.
  const root = options.dataDir ?? process.env.INTRODL_DATA;
  const folders = root ? faceFolders(faceDataRoot(root)) : undefined;
  const testFacesDir = options.testFacesDir ?? folders?.testFaces;
  const londonDir = options.londonDir ?? folders?.london;
  const hasTest = Boolean(testFacesDir && existsSync(testFacesDir));
  const hasLondon = Boolean(londonDir && existsSync(path.join(londonDir, 'groups.csv')));
  if (!hasTest && !hasLondon)
    throw new MissingDataError(
      `no face test set found: looked for ${testFacesDir ?? '<data>/lab2-faces/test_faces'} and ${londonDir ?? '<data>/lab2-faces/london'}/groups.csv. Pass --data DIR (the folder holding lab2-faces/), --test-faces DIR or --london DIR`,
    );

  const models = options.checkpoints.map((c) => loadModel(c, ['classifier', 'dbvae']));
  const setFiles: {
    set: string;
    description: string;
    note?: string;
    files: Record<FaceGroup, string[]>;
    people?: Record<FaceGroup, number>;
  }[] = [];
  try {
    if (hasTest)
      setFiles.push({
        set: 'test_faces',
        description: "The course's 20 test faces (5 per group)",
        files: testFaceFiles(testFacesDir!),
      });
    if (hasLondon) {
      const photos = londonPhotos(londonDir!);
      const { keep, note } = londonPeople(models, photos);
      const files = { LF: [], LM: [], DF: [], DM: [] } as Record<FaceGroup, string[]>;
      const people = {} as Record<FaceGroup, number>;
      for (const g of FACE_GROUPS) {
        const chosen = photos.filter((p) => p.group === g && keep.has(p.person));
        files[g] = chosen.map((p) => p.file);
        people[g] = new Set(chosen.map((p) => p.person)).size;
      }
      setFiles.push({
        set: 'london',
        description: 'The London set, held-out people, by skin group × gender',
        note,
        files,
        people,
      });
    }
  } catch (err) {
    for (const m of models) m.dispose();
    throw err;
  }

  const heldOutPhotos = [...new Set(models.flatMap((m) => splitOf(m)?.heldOutPhotos ?? DEFAULT_HELD_OUT_PHOTOS))];
  const photoFiles = folders ? heldOutPhotos.map((n) => path.join(folders.nonFaces, n)).filter(existsSync) : [];
  const cropsPerPhoto = options.cropsPerPhoto ?? 300;
  const run = RunFolder.create({
    lab: 'lab2-vision',
    command: 'introdl lab2 evaluate',
    config: {
      checkpoints: models.map((m) => m.checkpoint),
      sets: setFiles.map((s) => s.set),
      heldOutPhotos: photoFiles.map((f) => path.basename(f)),
      cropsPerPhoto,
      resamples: options.resamples ?? 2000,
    },
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.out,
  });
  try {
    const sets: SetResult[] = [];
    for (const s of setFiles) {
      // The test faces are already face crops (used as the course's loader reads them); London
      // portraits are cropped to the face first (see faceCropTensor).
      const inputs = {} as Record<FaceGroup, tf.Tensor4D>;
      const uncropped: string[] = [];
      for (const g of FACE_GROUPS) {
        if (s.set !== 'london') inputs[g] = faceTensorFromFiles(s.files[g]);
        else {
          const c = await faceCropTensor(s.files[g]);
          inputs[g] = c.x;
          uncropped.push(...c.uncropped);
        }
      }
      if (s.set === 'london')
        s.note = `${s.note} Each photo is cropped to its face as the test faces are: a square 1.2 times the reference detector's box${uncropped.length ? ` (the face was not found in ${uncropped.length} photo(s), used whole: ${uncropped.map((f) => path.basename(f)).join(', ')})` : ''}.`;
      const result: SetResult = {
        set: s.set,
        description: s.description,
        ...(s.note ? { note: s.note } : {}),
        models: models.map((m) => {
          const byGroup = {} as Record<FaceGroup, { files: string[]; probabilities: Float32Array; people?: number }>;
          for (const g of FACE_GROUPS)
            byGroup[g] = {
              files: s.files[g],
              probabilities: s.files[g].length ? faceProbabilities(m.faceLogit!, inputs[g]) : new Float32Array(),
              ...(s.people ? { people: s.people[g] } : {}),
            };
          return summariseModel(labelFor(m, models), m.kind, m.checkpoint, byGroup, {
            resamples: options.resamples,
            seed: options.seed,
          });
        }),
      };
      tf.dispose(Object.values(inputs));
      sets.push(result);
    }

    const crops: HeldOutCrops[] = [];
    for (const [i, f] of photoFiles.entries()) crops.push(await heldOutCrops(f, cropsPerPhoto, options.seed * 101 + i));
    const nonFaces = models.map((m) => {
      const photos = crops.map((c, i) =>
        scoreCrops(c, m.faceLogit!, { resamples: options.resamples, seed: options.seed * 7 + i }),
      );
      const n = photos.reduce((a, p) => a + p.n, 0);
      const below = photos.reduce((a, p) => a + p.belowHalf * p.n, 0);
      return { label: labelFor(m, models), photos, belowHalf: n ? below / n : Number.NaN, n };
    });
    tf.dispose(crops.map((c) => c.x));

    let trainingSample: EvaluateFacesResult['trainingSample'];
    if (options.facesFile) {
      const data = await FaceDataset.open(options.facesFile);
      const n = Math.min(options.sampleSize ?? 1000, 2 * Math.min(data.faceCount, data.nonFaceCount));
      const batch = data.getBatch(n, new Rng(options.seed));
      const labels = batch.y.dataSync();
      trainingSample = models.map((m) => {
        const p = faceProbabilities(m.faceLogit!, batch.x);
        let correct = 0;
        for (let i = 0; i < p.length; i++) if (p[i] >= 0.5 === (labels[i] === 1)) correct++;
        return { label: labelFor(m, models), accuracy: correct / p.length, n: p.length };
      });
      tf.dispose([batch.x, batch.y]);
    }

    const note = smallSampleNote(sets);
    const json = run.output('bias-report.json');
    const markdown = run.output('bias-report.md');
    await writeFileAtomic(
      json,
      `${JSON.stringify(
        {
          title: 'P(face) per group: test faces and held-out London people',
          metric: 'mean P(face)',
          rows: studioRows(sets),
          sets,
          nonFaces,
          trainingSample,
          note,
        },
        null,
        2,
      )}\n`,
    );
    let extra = '';
    if (nonFaces.length && nonFaces[0].photos.length) {
      extra += `## Non-face crops of photos held out of training\n\nWindows of the detector's grid that show no face (${cropsPerPhoto} a photo at most), scored by each model.\n\n| model | ${nonFaces[0].photos.map((p) => `${p.photo}: below 0.5 [95% CI] (n)`).join(' | ')} | all |\n|${' --- |'.repeat(nonFaces[0].photos.length + 2)}\n`;
      for (const m of nonFaces)
        extra += `| ${m.label} | ${m.photos.map((p) => `${p.belowHalf.toFixed(3)} [${p.belowHalfInterval.map((v) => v.toFixed(3)).join(', ')}] (${p.n}; max P ${p.maxP.toFixed(2)})`).join(' | ')} | ${m.belowHalf.toFixed(3)} of ${m.n} |\n`;
    }
    if (trainingSample)
      extra += `\n## Accuracy on a balanced sample of the training data\n\n${trainingSample.map((t) => `- ${t.label}: ${t.accuracy.toFixed(4)} on ${t.n} images`).join('\n')}\n`;
    await writeFileAtomic(markdown, biasReportMarkdown(sets, extra));
    const chart = await writePlot(biasChartSpec(sets) as Parameters<typeof writePlot>[0], run.output('bias-chart'));
    run.finish('completed', {
      sets: sets.map((s) => ({
        set: s.set,
        models: s.models.map((m) => ({
          label: m.label,
          detected: `${m.detected}/${m.total}`,
          worstGroup: m.worstGroup,
          largestGap: m.largestGap,
        })),
      })),
      nonFaces: nonFaces.map((m) => ({ label: m.label, belowHalf: m.belowHalf, n: m.n })),
      trainingSample,
    });
    log(`bias report: ${markdown}`);
    return {
      runDir: run.dir,
      sets,
      nonFaces,
      trainingSample,
      files: { json, markdown, chart: chart.png, chartSvg: chart.svg },
    };
  } catch (err) {
    if (run.info.status === 'running') run.finish('failed', undefined, (err as Error).message);
    throw err;
  } finally {
    for (const m of models) m.dispose();
  }
}
