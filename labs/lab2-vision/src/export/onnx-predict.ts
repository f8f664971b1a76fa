import { BadFlagError } from '@introdl/core';
import { loadDigits } from '../digits/data.js';
import { faceInput } from '../faces/face-input.js';
import { readImage } from '../image/codec.js';
import { resizeBilinear } from '../image/resize.js';
import { rgbToGrey } from '../image/rgb-image.js';
import type { ClassPrediction, Prediction } from '../predict.js';
import { OnnxLab2Model } from './onnx-model.js';

/** `introdl lab2 predict --runtime onnx`: {@link predict} on an exported folder, same inputs and outputs. */
export async function predictOnnx(options: {
  model: string;
  images: string[];
  indices?: number[];
  dataDir?: string;
}): Promise<{ kind: string; predictions: Prediction[] }> {
  const model = await OnnxLab2Model.load(options.model);
  try {
    const m = model.manifest;
    if (m.input.channels === 'RGB') {
      if (!options.images.length) throw new BadFlagError('pass at least one image file to predict on');
      const data = new Float32Array(options.images.length * 64 * 64 * 3);
      options.images.forEach((f, i) => {
        data.set(faceInput(readImage(f)), i * 64 * 64 * 3);
      });
      const p = await model.faceProbabilities(data, options.images.length);
      return { kind: m.kind, predictions: options.images.map((image, i) => ({ image, pFace: p[i] })) };
    }
    const classes = m.classes ?? [];
    const predictions: ClassPrediction[] = [];
    const best = (probs: number[]) => probs.indexOf(Math.max(...probs));
    if (options.indices?.length) {
      const dataset = classes[0] === '0' ? 'mnist' : 'fashion-mnist';
      const test = await loadDigits({ dataset, split: 'test', dir: options.dataDir });
      const px = test.width * test.height;
      for (const i of options.indices) {
        if (!(i >= 0 && i < test.n)) throw new BadFlagError(`--index ${i} is outside the ${test.n} test images`);
        const [probs] = await model.classProbabilities(test.images.slice(i * px, (i + 1) * px), 1);
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
      const [probs] = await model.classProbabilities(rgbToGrey(resizeBilinear(readImage(file), 28, 28)), 1);
      const k = best(probs);
      predictions.push({ image: file, predicted: classes[k], probability: probs[k], probabilities: probs });
    }
    if (!predictions.length) throw new BadFlagError('pass image files, or --index N for test images');
    return { kind: m.kind, predictions };
  } finally {
    model.dispose();
  }
}
