import { BadFlagError, type CommandContext, type CommandGroup, intOption, numberOption } from '@introdl/core';
import { digitsStats, faceFileStats } from './data-stats.js';
import { detectImages } from './detect/detect-images.js';
import { parseDataset } from './digits/data.js';
import { evaluateDigitCheckpoint } from './digits/evaluate-checkpoint.js';
import { trainDigits } from './digits/train.js';
import { exportCommand } from './export/command.js';
import { predictOnnx } from './export/onnx-predict.js';
import { buildFaceDataset } from './faces/build-dataset.js';
import { evaluateFaces } from './faces/evaluate-faces.js';
import { trainFaces } from './faces/train-faces.js';
import { isDigitModel, loadModel, parseModelKind } from './model-store.js';
import { formatPredictions, predict } from './predict.js';

/** `introdl lab2 …`: Lab 2's commands. Each one delegates to a module that does the work. */

const str = (o: Record<string, unknown>, k: string): string | undefined =>
  o[k] === undefined ? undefined : String(o[k]);
const optionalInt = (o: Record<string, unknown>, k: string) => (o[k] === undefined ? undefined : intOption(o, k, 0));
const optionalNumber = (o: Record<string, unknown>, k: string) =>
  o[k] === undefined ? undefined : numberOption(o, k, 0);
const backendInfo = (c: CommandContext) => ({ backend: c.backend?.name, device: c.backend?.detail });
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

const runtimeOption = {
  flags: '--runtime <name>',
  description: 'tfjs, or onnx: --checkpoint is then a folder from `introdl lab2 export`, run in onnxruntime-node',
  default: 'tfjs',
  choices: ['tfjs', 'onnx'],
};

const dataOption = {
  flags: '--data <dir>',
  description:
    'folder with the data (IDX files for Part 1; the folder holding lab2-faces/ for Part 2). Default: INTRODL_DATA, then system folders and the cache',
};
const datasetOption = {
  flags: '--dataset <name>',
  description: 'Part 1 data set: fashion-mnist or mnist',
  default: 'fashion-mnist',
  choices: ['fashion-mnist', 'mnist'],
};

export const commands: CommandGroup = {
  name: 'lab2',
  description: 'Lab 2: image classification (Fashion-MNIST/MNIST), then face detection debiased with a DB-VAE',
  commands: [
    {
      name: 'data',
      description: 'data stats: the Part 1 data set, and a face HDF5 file with --faces',
      options: [
        dataOption,
        datasetOption,
        { flags: '--faces <file>', description: 'a face HDF5 file (train_face.h5 layout)' },
        { flags: '--json', description: 'print JSON' },
      ],
      async run({ options, context }) {
        const out: Record<string, unknown> = {};
        if (options.faces) out.faces = await faceFileStats(String(options.faces));
        else out.digits = await digitsStats(parseDataset(options.dataset), str(options, 'data'));
        if (options.json) context.print(JSON.stringify(out, null, 2));
        else context.print(formatStats(out));
        return 0;
      },
    },
    {
      name: 'train',
      description: 'train fc or cnn (Part 1), or the face classifier or DB-VAE (Part 2, needs --faces FILE.h5)',
      usesBackend: true,
      options: [
        {
          flags: '--model <kind>',
          description: 'fc | cnn | classifier | dbvae',
          choices: ['fc', 'cnn', 'classifier', 'dbvae'],
        },
        dataOption,
        datasetOption,
        { flags: '--faces <file>', description: 'face HDF5 file (train_face.h5 layout) for classifier/dbvae' },
        { flags: '--epochs <n>', description: 'epochs (Part 1: 5, the course; Part 2: 3, the course has 2)' },
        { flags: '--steps <n>', description: 'Part 2: total steps instead of whole epochs' },
        { flags: '--batch-size <n>', description: 'batch size (course: 64 for Part 1, 32 for Part 2)' },
        {
          flags: '--optimizer <name>',
          description: 'Part 1: sgd or adam (course: sgd for fc, adam for cnn)',
          choices: ['sgd', 'adam'],
        },
        { flags: '--lr <rate>', description: 'learning rate (course: 0.1 fc, 1e-3 cnn, 5e-4 Part 2)' },
        {
          flags: '--schedule <kind>',
          description: 'Part 2: cosine (decay to 5% of --lr by the last step) or constant (the course)',
          default: 'cosine',
          choices: ['cosine', 'constant'],
        },
        { flags: '--train-limit <n>', description: 'Part 1: use only the first N training images' },
        { flags: '--test-limit <n>', description: 'Part 1: use only the first N test images' },
        { flags: '--latent-dim <n>', description: 'DB-VAE latent size', default: '100' },
        { flags: '--kl-weight <w>', description: 'DB-VAE KL weight', default: '0.0005' },
        { flags: '--no-resample', description: 'DB-VAE: turn adaptive resampling off (for comparison)' },
        {
          flags: '--smoothing <f>',
          description: 'DB-VAE: smoothing of the resampling histogram (smaller debiases more strongly; course 0.001)',
          default: '0.05',
        },
        { flags: '--sample-every <n>', description: 'DB-VAE: save reconstructions every N steps', default: '100' },
      ],
      async run({ options, context }) {
        if (options.model === undefined) throw new BadFlagError('--model is required: fc, cnn, classifier or dbvae');
        const kind = parseModelKind(options.model);
        if (isDigitModel(kind)) {
          const r = await trainDigits({
            model: kind,
            dataset: parseDataset(options.dataset),
            dataDir: str(options, 'data'),
            epochs: optionalInt(options, 'epochs'),
            batchSize: optionalInt(options, 'batchSize'),
            optimizer: options.optimizer as 'sgd' | 'adam' | undefined,
            learningRate: optionalNumber(options, 'lr'),
            trainLimit: optionalInt(options, 'trainLimit'),
            testLimit: optionalInt(options, 'testLimit'),
            seed: context.seed,
            out: context.out,
            ...backendInfo(context),
            log: context.log,
          });
          context.print(
            `test accuracy ${r.testAccuracy.toFixed(4)} (train ${r.trainAccuracy.toFixed(4)}) after ${r.steps} steps in ${r.trainSeconds.toFixed(1)} s\npredictions: ${r.grid}\nrun folder: ${r.runDir}`,
          );
          return 0;
        }
        if (!options.faces)
          throw new BadFlagError(`--model ${kind} needs --faces FILE.h5 (make one with introdl lab2 build-dataset)`);
        const r = await trainFaces({
          model: kind,
          facesFile: String(options.faces),
          epochs: optionalInt(options, 'epochs'),
          steps: optionalInt(options, 'steps'),
          batchSize: optionalInt(options, 'batchSize'),
          learningRate: optionalNumber(options, 'lr'),
          schedule: options.schedule === 'constant' ? 'constant' : 'cosine',
          latentDim: intOption(options, 'latentDim', 100),
          klWeight: numberOption(options, 'klWeight', 0.0005),
          resample: options.resample !== false,
          smoothing: optionalNumber(options, 'smoothing'),
          sampleEvery: intOption(options, 'sampleEvery', 100),
          seed: context.seed,
          out: context.out,
          ...backendInfo(context),
          log: context.log,
        });
        context.print(
          `accuracy on a balanced training sample ${r.trainSampleAccuracy.toFixed(4)} after ${r.steps} steps in ${r.trainSeconds.toFixed(1)} s\nrun folder: ${r.runDir}`,
        );
        return 0;
      },
    },
    {
      name: 'evaluate',
      description: 'Part 1: test accuracy and prediction grid; Part 2: the bias report of one or more face models',
      usesBackend: true,
      options: [
        {
          flags: '--checkpoint <paths...>',
          description: 'run folders or checkpoint folders (Part 2: several, e.g. the CNN and the DB-VAE)',
        },
        dataOption,
        { flags: '--test-faces <dir>', description: "the course's test faces folder (test_faces/{LF,LM,DF,DM})" },
        { flags: '--london <dir>', description: 'the London set folder (with groups.csv)' },
        { flags: '--faces <file>', description: 'also report accuracy on a balanced sample of this face HDF5 file' },
        { flags: '--bootstrap <n>', description: 'bootstrap resamples for the intervals', default: '2000' },
        {
          flags: '--crops <n>',
          description: 'non-face crops scored per held-out photo (astronaut.png, coffee.png)',
          default: '300',
        },
      ],
      async run({ options, context }) {
        const checkpoints = list(options.checkpoint);
        if (!checkpoints.length) throw new BadFlagError('--checkpoint is required (a run folder or checkpoint folder)');
        const first = loadModel(checkpoints[0]);
        const digit = isDigitModel(first.kind);
        first.dispose();
        if (digit) {
          for (const c of checkpoints) {
            const r = await evaluateDigitCheckpoint({
              checkpoint: c,
              dataDir: str(options, 'data'),
              seed: context.seed,
              out: checkpoints.length === 1 ? context.out : undefined,
              ...backendInfo(context),
            });
            context.print(
              `${r.kind}: test accuracy ${r.accuracy.toFixed(4)}, loss ${r.loss.toFixed(4)} on ${r.total} images; grid ${r.grid}`,
            );
          }
          return 0;
        }
        const r = await evaluateFaces({
          checkpoints,
          dataDir: str(options, 'data'),
          testFacesDir: str(options, 'testFaces'),
          londonDir: str(options, 'london'),
          facesFile: str(options, 'faces'),
          resamples: intOption(options, 'bootstrap', 2000),
          cropsPerPhoto: intOption(options, 'crops', 300),
          seed: context.seed,
          out: context.out,
          ...backendInfo(context),
          log: context.log,
        });
        for (const set of r.sets)
          for (const m of set.models)
            context.print(
              `${set.set}: ${m.label} ${m.detected}/${m.total} faces at P ≥ 0.5 (${m.groups.map((g) => `${g.group} ${g.probabilities.filter((v) => v >= 0.5).length}/${g.n}`).join(', ')}); worst ${m.worstGroup.group}, best − worst mean P ${m.largestGap.gap.toFixed(2)}`,
            );
        for (const m of r.nonFaces)
          if (m.n)
            context.print(
              `held-out photos: ${m.label} keeps ${(100 * m.belowHalf).toFixed(1)}% of ${m.n} non-face crops below 0.5`,
            );
        context.print(
          `report: ${r.files.markdown}\nchart: ${r.files.chart} (${r.files.chartSvg})\njson: ${r.files.json}`,
        );
        return 0;
      },
    },
    {
      name: 'predict',
      description: 'P(face) for each image (face models), or the class (Part 1 models)',
      usesBackend: true,
      writesRun: false,
      arguments: [{ name: 'images', description: 'PNG or JPEG files', required: false, variadic: true }],
      options: [
        { flags: '--checkpoint <path>', description: 'a run folder or checkpoint folder' },
        { flags: '--index <n...>', description: 'Part 1: test-set image indices to predict' },
        dataOption,
        { flags: '--json', description: 'print a JSON list' },
        runtimeOption,
      ],
      async run({ args, options, context }) {
        if (!options.checkpoint) throw new BadFlagError('--checkpoint is required');
        const indices = list(options.index).map((v) => {
          const n = Number(v);
          if (!Number.isInteger(n)) throw new BadFlagError(`--index must be whole numbers, got "${v}"`);
          return n;
        });
        const request = { images: args, indices, dataDir: str(options, 'data') };
        const r =
          options.runtime === 'onnx'
            ? await predictOnnx({ model: String(options.checkpoint), ...request })
            : await predict({ checkpoint: String(options.checkpoint), ...request });
        context.print(options.json ? JSON.stringify(r.predictions, null, 2) : formatPredictions(r.predictions));
        return 0;
      },
    },
    {
      name: 'build-dataset',
      description: 'write an offline face training set (train_face.h5 layout) from the course data under INTRODL_DATA',
      usesBackend: true,
      writesRun: false,
      options: [
        dataOption,
        { flags: '--output <file>', description: 'the HDF5 file to write', default: 'train_face_offline.h5' },
        { flags: '--augmentations <n>', description: 'augmented crops of each training face photo', default: '4' },
        { flags: '--negative-ratio <r>', description: 'non-faces per face', default: '1.5' },
        { flags: '--pool-ratio <r>', description: 'hard-negative mining pool windows per face', default: '3' },
        {
          flags: '--held-out <f>',
          description: "share of each London skin × gender group's people held out for evaluation",
          default: '0.3',
        },
        {
          flags: '--validation <f>',
          description: "share of each extra set's people held out for validation and threshold calibration",
          default: '0.1',
        },
        { flags: '--split-seed <n>', description: 'seed of the person split (fixed by default)', default: '1' },
        {
          flags: '--hold-out-photos <names...>',
          description: 'CC0 photos never used (default: astronaut.png coffee.png, the detection test photos)',
        },
        { flags: '--max-people <n>', description: 'use at most N people of each face source (quick builds)' },
        {
          flags: '--fashion-fraction <f>',
          description: 'share of the non-faces taken from Fashion-MNIST (domain-randomised like the rest)',
          default: '0',
        },
        {
          flags: '--seed <n>',
          description: 'random seed of the crops and augmentations (recorded in the file)',
          default: '1',
        },
      ],
      async run({ options, context }) {
        const r = await buildFaceDataset({
          dataDir: str(options, 'data'),
          output: String(options.output),
          augmentations: intOption(options, 'augmentations', 4),
          negativeRatio: numberOption(options, 'negativeRatio', 1.5),
          poolRatio: numberOption(options, 'poolRatio', 3),
          heldOut: numberOption(options, 'heldOut', 0.3),
          validation: numberOption(options, 'validation', 0.1),
          splitSeed: intOption(options, 'splitSeed', 1),
          holdOutPhotos: options.holdOutPhotos === undefined ? undefined : list(options.holdOutPhotos),
          maxPeoplePerSource: optionalInt(options, 'maxPeople'),
          fashionFraction: numberOption(options, 'fashionFraction', 0),
          seed: intOption(options, 'seed', 1),
          log: context.log,
        });
        context.print(
          `${r.file}: ${r.faces} faces, ${r.nonFaces} non-faces, ${r.pool} mining-pool windows, validation ${r.validation.faces} faces and ${r.validation.nonFaces} non-faces`,
        );
        return 0;
      },
    },
    {
      name: 'detect',
      description: 'find faces in whole photos with the sliding-window detector; compare with the face-api reference',
      usesBackend: true,
      arguments: [{ name: 'images', description: 'PNG or JPEG photos', variadic: true }],
      options: [
        { flags: '--checkpoint <path>', description: 'a classifier or DB-VAE run folder or checkpoint' },
        { flags: '--sizes <n>', description: 'number of window sizes', default: '8' },
        {
          flags: '--min-window <f>',
          description: 'smallest window, as a fraction of the shorter side',
          default: '0.12',
        },
        { flags: '--stride <f>', description: 'stride as a fraction of the window', default: '0.2' },
        {
          flags: '--threshold <p>',
          description: "P(face) a window needs (default: the run's calibrated threshold, else 0.5)",
        },
        {
          flags: '--face-scale <f>',
          description: "the face's side as a share of the window's (default: from the run's training data, else 1)",
        },
        { flags: '--nms-iou <f>', description: 'IoU above which non-maximum suppression drops a box', default: '0.3' },
        {
          flags: '--min-neighbours <n>',
          description: 'windows that must agree on a face (overlapping, above the threshold)',
          default: '2',
        },
        { flags: '--no-reference', description: 'skip the face-api reference detector' },
        { flags: '--json', description: 'print the detections as JSON' },
        runtimeOption,
      ],
      async run({ args, options, context }) {
        if (!options.checkpoint) throw new BadFlagError('--checkpoint is required');
        const r = await detectImages({
          checkpoint: String(options.checkpoint),
          images: args,
          sizes: intOption(options, 'sizes', 8),
          minFraction: numberOption(options, 'minWindow', 0.12),
          strideFraction: numberOption(options, 'stride', 0.2),
          threshold: optionalNumber(options, 'threshold'),
          faceScale: optionalNumber(options, 'faceScale'),
          nmsIou: numberOption(options, 'nmsIou', 0.3),
          minNeighbours: intOption(options, 'minNeighbours', 2),
          reference: options.reference !== false,
          runtime: options.runtime === 'onnx' ? 'onnx' : 'tfjs',
          seed: context.seed,
          out: context.out,
          ...backendInfo(context),
          log: context.log,
        });
        if (options.json) context.print(JSON.stringify(r.results, null, 2));
        else
          for (const d of r.results)
            context.print(
              `${d.image}: ${d.boxes.length} face(s)${d.agreement ? `, IoU with reference ${d.agreement.map((v) => v.toFixed(2)).join(', ') || 'n/a'}` : ''}; ${d.picture}`,
            );
        context.print(`run folder: ${r.runDir}`);
        return 0;
      },
    },
    exportCommand,
  ],
};

/** Human-readable data stats. */
function formatStats(out: Record<string, unknown>): string {
  const lines: string[] = [];
  const d = out.digits as Awaited<ReturnType<typeof digitsStats>> | undefined;
  if (d) {
    lines.push(`${d.dataset} in ${d.dir}`);
    for (const s of d.splits) {
      lines.push(
        `  ${s.split}: ${s.images} images ${s.height}×${s.width}, pixel mean ${s.meanPixel.toFixed(4)} sd ${s.stdPixel.toFixed(4)}`,
      );
      lines.push(
        `    per class: ${Object.entries(s.perClass)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ')}`,
      );
    }
  }
  const f = out.faces as Awaited<ReturnType<typeof faceFileStats>> | undefined;
  if (f) {
    lines.push(`${f.file}: ${f.images} images, ${f.faces} faces, ${f.nonFaces} non-faces`);
    lines.push(
      `  mean RGB of faces ${f.meanRgb.faces.map((v) => v.toFixed(3)).join(' ')}, of non-faces ${f.meanRgb.nonFaces.map((v) => v.toFixed(3)).join(' ')}`,
    );
    for (const [k, v] of Object.entries(f.attributes))
      lines.push(
        `  ${k}: ${k === 'split' && typeof v === 'string' ? describeSplit(v) : typeof v === 'string' ? v : JSON.stringify(v)}`,
      );
  }
  return lines.join('\n');
}

/** The recorded person split in one line (the attribute itself lists every person id). */
function describeSplit(json: string): string {
  try {
    const split = JSON.parse(json) as {
      london?: {
        heldOut: string[];
        train: string[];
        strata: Record<string, { train: { people: number }; heldOut: { people: number } }>;
      };
      extra?: Record<string, { heldOut: string[]; train: string[] }>;
      heldOutPhotos?: string[];
    };
    const london = split.london
      ? `London ${split.london.heldOut.length} people held out, ${split.london.train.length} training (${Object.entries(
          split.london.strata,
        )
          .map(([g, c]) => `${g} ${c.heldOut.people}/${c.train.people}`)
          .join(', ')})`
      : 'no London split';
    const extra = Object.entries(split.extra ?? {}).map(
      ([name, s]) => `${name} ${s.heldOut.length} validation / ${s.train.length} training`,
    );
    return [london, ...extra, `held-out photos ${(split.heldOutPhotos ?? []).join(', ')}`].join('; ');
  } catch {
    return json;
  }
}
