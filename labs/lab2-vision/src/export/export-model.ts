import path from 'node:path';
import {
  appendLayersModel,
  FASHION_MNIST_CLASSES,
  MNIST_CLASSES,
  OnnxGraph,
  onnxAttr,
  type tf,
  writeExportFolder,
  writeFileAtomicSync,
  writeOnnxModel,
} from '@introdl/core';
import { DIGIT_INPUT_SHAPE } from '../digits/models.js';
import { FACE_INPUT_SHAPE } from '../faces/classifier.js';
import { type LoadedModel, loadModel, type ModelKind } from '../model-store.js';

/**
 * `introdl lab2 export --format onnx`: a trained Lab 2 model as ONNX files any runtime can use, with
 * `introdl-export.json` describing them. Inputs are what the tfjs models take: channels-last float
 * images in [0, 1], `[N, 64, 64, 3]` RGB for the face models, `[N, 28, 28, 1]` grey for Part 1's.
 *
 * - classifier → `model.onnx`: `images` → `logit` [N, 1] and `probability` [N, 1] (P(face));
 * - dbvae → `classifier.onnx` (the same two outputs from the encoder's first output) and
 *   `encoder.onnx`: `images` → `logit`, `mu` and `logsigma` [N, latent];
 * - fc, cnn → `model.onnx`: `images` → `logits` [N, 10] and `probabilities` (softmax).
 */

/** What `introdl-export.json` says. */
export interface Lab2ExportManifest {
  lab: 'lab2-vision';
  kind: ModelKind;
  checkpoint: string;
  step: number;
  /** The file that scores inputs (P(face) or class probabilities). */
  model: string;
  encoder?: string;
  input: { name: 'images'; shape: (number | string)[]; layout: 'NHWC'; range: [0, 1]; channels: 'RGB' | 'grey' };
  outputs: string[];
  classes?: string[];
  latentDim?: number;
}

export const MANIFEST = 'introdl-export.json';

function imagesInput(g: OnnxGraph, kind: ModelKind): string {
  const shape = kind === 'fc' || kind === 'cnn' ? DIGIT_INPUT_SHAPE : FACE_INPUT_SHAPE;
  return g.input('images', 'float32', ['batch', ...shape]);
}

/** The face classifier or the DB-VAE's face logit: `images` → `logit`, `probability`. */
export function faceGraph(layers: tf.LayersModel, kind: ModelKind): OnnxGraph {
  const g = new OnnxGraph(`${kind}-face`);
  let out = appendLayersModel(g, layers, imagesInput(g, kind), kind === 'dbvae' ? 'encoder' : 'classifier');
  if (kind === 'dbvae') out = g.op('Slice', [out, g.ints([0]), g.ints([1]), g.ints([1])]);
  g.output(out, 'float32', ['batch', 1], 'logit');
  g.output(g.op('Sigmoid', ['logit']), 'float32', ['batch', 1], 'probability');
  return g;
}

/** The DB-VAE encoder: `images` → `logit`, `mu`, `logsigma`. */
function encoderGraph(layers: tf.LayersModel, latent: number): OnnxGraph {
  const g = new OnnxGraph('dbvae-encoder');
  const out = appendLayersModel(g, layers, imagesInput(g, 'dbvae'), 'encoder');
  const slice = (start: number, end: number) => g.op('Slice', [out, g.ints([start]), g.ints([end]), g.ints([1])]);
  g.output(slice(0, 1), 'float32', ['batch', 1], 'logit');
  g.output(slice(1, 1 + latent), 'float32', ['batch', latent], 'mu');
  g.output(slice(1 + latent, 1 + 2 * latent), 'float32', ['batch', latent], 'logsigma');
  return g;
}

/** Part 1's classifiers: `images` → `logits`, `probabilities`. */
function digitsGraph(layers: tf.LayersModel, kind: ModelKind): OnnxGraph {
  const g = new OnnxGraph(kind);
  const logits = appendLayersModel(g, layers, imagesInput(g, kind), kind);
  g.output(logits, 'float32', ['batch', 10], 'logits');
  g.output(g.op('Softmax', ['logits'], { axis: onnxAttr.int(-1) }), 'float32', ['batch', 10], 'probabilities');
  return g;
}

/** Exports the model of a checkpoint (or run folder) to `out`. */
export async function exportLab2Model(options: {
  checkpoint: string;
  out: string;
  log?: (m: string) => void;
}): Promise<{ dir: string; manifest: Lab2ExportManifest; files: string[] }> {
  const model: LoadedModel = loadModel(options.checkpoint);
  try {
    const kind = model.kind;
    const files: string[] = [];
    const latent = model.dbvae?.latentDim;
    const dataset = model.config.dataset === 'mnist' ? 'mnist' : 'fashion-mnist';
    const digits = kind === 'fc' || kind === 'cnn';
    const manifest: Lab2ExportManifest = {
      lab: 'lab2-vision',
      kind,
      checkpoint: model.checkpoint,
      step: model.step,
      model: kind === 'dbvae' ? 'classifier.onnx' : 'model.onnx',
      input: {
        name: 'images',
        shape: ['batch', ...(digits ? DIGIT_INPUT_SHAPE : FACE_INPUT_SHAPE)],
        layout: 'NHWC',
        range: [0, 1],
        channels: digits ? 'grey' : 'RGB',
      },
      outputs: digits ? ['logits', 'probabilities'] : ['logit', 'probability'],
      ...(digits ? { classes: [...(dataset === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES)] } : {}),
      ...(latent ? { latentDim: latent, encoder: 'encoder.onnx' } : {}),
    };
    const dir = await writeExportFolder(options.out, (tmp) => {
      const write = (file: string, g: OnnxGraph) => {
        const size = writeOnnxModel(path.join(tmp, file), g, {
          docString: `introdl lab2 ${kind} from ${model.checkpoint} (step ${model.step})`,
        });
        options.log?.(`${file}: ${(size.model / 1e6).toFixed(2)} MB`);
        files.push(file);
      };
      if (digits) write('model.onnx', digitsGraph(model.layers as tf.LayersModel, kind));
      else if (kind === 'classifier') write('model.onnx', faceGraph(model.layers as tf.LayersModel, kind));
      else {
        const encoder = model.dbvae?.encoder as tf.LayersModel;
        write('classifier.onnx', faceGraph(encoder, kind));
        write('encoder.onnx', encoderGraph(encoder, latent as number));
      }
      writeFileAtomicSync(path.join(tmp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
      files.push(MANIFEST);
      return path.resolve(options.out);
    });
    return { dir, manifest, files };
  } finally {
    model.dispose();
  }
}
