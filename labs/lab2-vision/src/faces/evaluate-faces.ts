import { existsSync } from 'node:fs';
import path from 'node:path';
import { MissingDataError, Rng, RunFolder, tf, writeFileAtomic, writePlot } from '@introdl/core';
import { type LoadedModel, loadModel } from '../model-store.js';
import { biasChartSpec, biasReportMarkdown, type SetResult, smallSampleNote, summariseModel } from './bias-report.js';
import {
  FACE_GROUPS,
  type FaceGroup,
  faceDataRoot,
  faceFolders,
  londonGroupFiles,
  testFaceFiles,
} from './course-data.js';
import { FaceDataset } from './face-dataset.js';
import { faceProbabilities, faceTensorFromFiles } from './face-input.js';

/**
 * `introdl lab2 evaluate` for face models: every model given, on the course's test faces and on
 * the London set by group (whichever are present), side by side in JSON, Markdown and a grouped
 * bar chart.
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
  trainingSample?: { label: string; accuracy: number; n: number }[];
  files: { json: string; markdown: string; chart: string };
}

function labelFor(model: LoadedModel, all: LoadedModel[]): string {
  const base = model.kind === 'dbvae' ? 'DB-VAE' : 'Standard CNN';
  const same = all.filter((m) => m.kind === model.kind);
  return same.length > 1 ? `${base} (${path.basename(path.dirname(path.dirname(model.checkpoint)))})` : base;
}

export async function evaluateFaces(options: EvaluateFacesOptions): Promise<EvaluateFacesResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  // The data root is optional here: explicit --test-faces / --london folders are enough.
  const root = options.dataDir ?? process.env.INTRODL_DATA;
  const folders = root ? faceFolders(faceDataRoot(root)) : undefined;
  const testFacesDir = options.testFacesDir ?? folders?.testFaces;
  const londonDir = options.londonDir ?? folders?.london;

  const setFiles: { set: string; description: string; files: Record<FaceGroup, string[]> }[] = [];
  if (testFacesDir && existsSync(testFacesDir))
    setFiles.push({
      set: 'test_faces',
      description: "the course's test faces (5 per group)",
      files: testFaceFiles(testFacesDir),
    });
  if (londonDir && existsSync(path.join(londonDir, 'groups.csv')))
    setFiles.push({
      set: 'london',
      description: 'the London face set by skin group × gender',
      files: londonGroupFiles(londonDir),
    });
  if (!setFiles.length)
    throw new MissingDataError(
      `no face test set found: looked for ${testFacesDir ?? '<data>/lab2-faces/test_faces'} and ${londonDir ?? '<data>/lab2-faces/london'}/groups.csv. Pass --data DIR (the folder holding lab2-faces/), --test-faces DIR or --london DIR`,
    );

  const models = options.checkpoints.map((c) => loadModel(c, ['classifier', 'dbvae']));
  const run = RunFolder.create({
    lab: 'lab2',
    command: 'introdl lab2 evaluate',
    config: {
      checkpoints: models.map((m) => m.checkpoint),
      sets: setFiles.map((s) => s.set),
      resamples: options.resamples ?? 2000,
    },
    seed: options.seed,
    backend: options.backend,
    device: options.device,
    out: options.out,
  });
  try {
    const sets: SetResult[] = setFiles.map((s) => {
      const inputs = {} as Record<FaceGroup, tf.Tensor4D>;
      for (const g of FACE_GROUPS) inputs[g] = faceTensorFromFiles(s.files[g]);
      const result: SetResult = {
        set: s.set,
        description: s.description,
        models: models.map((m) => {
          const byGroup = {} as Record<FaceGroup, { files: string[]; probabilities: Float32Array }>;
          for (const g of FACE_GROUPS)
            byGroup[g] = { files: s.files[g], probabilities: faceProbabilities(m.faceLogit!, inputs[g]) };
          return summariseModel(labelFor(m, models), m.kind, m.checkpoint, byGroup, {
            resamples: options.resamples,
            seed: options.seed,
          });
        }),
      };
      tf.dispose(Object.values(inputs));
      return result;
    });

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
    await writeFileAtomic(json, `${JSON.stringify({ sets, trainingSample, note }, null, 2)}\n`);
    let md = biasReportMarkdown(sets);
    if (trainingSample)
      md += `\n## Accuracy on a balanced sample of the training data\n\n${trainingSample.map((t) => `- ${t.label}: ${t.accuracy.toFixed(4)} on ${t.n} images`).join('\n')}\n`;
    await writeFileAtomic(markdown, md);
    const chart = await writePlot(biasChartSpec(sets) as Parameters<typeof writePlot>[0], run.output('bias-chart'));
    run.finish('completed', {
      sets: sets.map((s) => ({
        set: s.set,
        models: s.models.map((m) => ({ label: m.label, worstGroup: m.worstGroup, largestGap: m.largestGap })),
      })),
      trainingSample,
    });
    log(`bias report: ${markdown}`);
    return { runDir: run.dir, sets, trainingSample, files: { json, markdown, chart: chart.png } };
  } catch (err) {
    if (run.info.status === 'running') run.finish('failed', undefined, (err as Error).message);
    throw err;
  } finally {
    for (const m of models) m.dispose();
  }
}
