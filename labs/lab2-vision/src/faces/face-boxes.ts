import { referenceDetect } from '../detect/reference-detector.js';
import type { Box, RgbImage } from '../image/rgb-image.js';

/**
 * The face in a portrait, by the reference detector (face-api's tiny face detector): its best box
 * at input size 224 (portraits are small and their faces large, and 224 is four times faster than
 * 416), else at 416; undefined when neither finds one. A portrait without a found face is left out
 * rather than guessed at: a positive framed on a suit teaches the wrong thing.
 */
export async function portraitFace(image: RgbImage): Promise<Box | undefined> {
  for (const inputSize of [224, 416]) {
    const found = await referenceDetect(image, { inputSize, scoreThreshold: 0.5 });
    if (found.length) {
      const { x, y, width, height } = found[0];
      return { x, y, width, height };
    }
  }
  return undefined;
}

/** Every face the reference detector sees in a photo at a low threshold (to keep negatives clear of them). */
export async function anyFaces(image: RgbImage): Promise<Box[]> {
  return referenceDetect(image, { scoreThreshold: 0.3 });
}
