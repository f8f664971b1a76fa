import { BadFlagError } from '@introdl/core';
import { faceInput } from '../faces/face-input.js';
import { readImage } from '../image/codec.js';
import { classPredictions, type Prediction } from '../predict.js';
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
    const dataset = classes[0] === '0' ? 'mnist' : 'fashion-mnist';
    const predictions = await classPredictions(options, dataset, classes, async (pixels) => {
      // A standalone copy for onnxruntime, not a view into the whole test set's buffer.
      const [probs] = await model.classProbabilities(pixels.slice(), 1);
      return probs;
    });
    if (!predictions.length) throw new BadFlagError('pass image files, or --index N for test images');
    return { kind: m.kind, predictions };
  } finally {
    model.dispose();
  }
}
