import { BadFlagError, FASHION_MNIST_CLASSES, MNIST_CLASSES } from '@introdl/core';
import { loadDigits } from './digits/data.js';
import { predictProbabilities } from './digits/evaluate.js';
import { faceProbabilities, faceTensorFromFiles } from './faces/face-input.js';
import { readImage } from './image/codec.js';
import { resizeBilinear } from './image/resize.js';
import { rgbToGrey } from './image/rgb-image.js';
import { isDigitModel, loadModel } from './model-store.js';

/**
 * `introdl lab2 predict --checkpoint … IMAGE…`: P(face) for each image with a face model; the
 * class and its probability with a Part 1 model (images converted to 28×28 grey; or `--index`
 * picks test images).
 */

export interface FacePrediction {
  image: string;
  pFace: number;
}

export interface ClassPrediction {
  image: string;
  predicted: string;
  probability: number;
  truth?: string;
  probabilities: number[];
}

export type Prediction = FacePrediction | ClassPrediction;

export async function predict(options: {
  checkpoint: string;
  images: string[];
  indices?: number[];
  dataDir?: string;
}): Promise<{ kind: string; predictions: Prediction[] }> {
  const model = loadModel(options.checkpoint);
  try {
    if (!isDigitModel(model.kind)) {
      if (!options.images.length) throw new BadFlagError('pass at least one image file to predict on');
      const x = faceTensorFromFiles(options.images);
      const p = faceProbabilities(model.faceLogit!, x);
      x.dispose();
      return { kind: model.kind, predictions: options.images.map((image, i) => ({ image, pFace: p[i] })) };
    }
    const dataset = (model.config.dataset as 'fashion-mnist' | 'mnist' | undefined) ?? 'fashion-mnist';
    const classes = dataset === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES;
    const predictions = await classPredictions(
      options,
      dataset,
      classes,
      (pixels) => predictProbabilities(model.layers!, pixels, 1)[0],
    );
    if (!predictions.length) throw new BadFlagError('pass image files, or --index N for test images');
    return { kind: model.kind, predictions };
  } finally {
    model.dispose();
  }
}

/**
 * A Part 1 model's predictions for the `--index` test images of `dataset`, then for image files
 * (converted to 28×28 grey), with `probabilities` running the model on one image's pixels.
 */
export async function classPredictions(
  options: { images: string[]; indices?: number[]; dataDir?: string },
  dataset: 'fashion-mnist' | 'mnist',
  classes: readonly string[],
  probabilities: (pixels: Float32Array) => number[] | Promise<number[]>,
): Promise<ClassPrediction[]> {
  const predictions: ClassPrediction[] = [];
  const best = (probs: number[]) => probs.indexOf(Math.max(...probs));
  if (options.indices?.length) {
    const test = await loadDigits({ dataset, split: 'test', dir: options.dataDir });
    const px = test.width * test.height;
    for (const i of options.indices) {
      if (!(i >= 0 && i < test.n)) throw new BadFlagError(`--index ${i} is outside the ${test.n} test images`);
      const probs = await probabilities(test.images.subarray(i * px, (i + 1) * px));
      const k = best(probs);
      predictions.push({
        image: `test[${i}]`,
        predicted: test.classes[k],
        probability: probs[k],
        truth: test.classes[test.labels[i]],
        probabilities: probs,
      });
    }
  }
  for (const file of options.images) {
    const probs = await probabilities(rgbToGrey(resizeBilinear(readImage(file), 28, 28)));
    const k = best(probs);
    predictions.push({ image: file, predicted: classes[k], probability: probs[k], probabilities: probs });
  }
  return predictions;
}

/** One line per prediction, for the terminal. */
export function formatPredictions(predictions: Prediction[]): string {
  return predictions
    .map((p) =>
      'pFace' in p
        ? `${p.pFace.toFixed(4)}  ${p.image}`
        : `${p.predicted} ${(100 * p.probability).toFixed(1)}%${p.truth ? ` (true: ${p.truth})` : ''}  ${p.image}`,
    )
    .join('\n');
}
