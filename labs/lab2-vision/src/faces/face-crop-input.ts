import { tf } from '@introdl/core';
import { sampleSquare } from '../image/affine.js';
import { readImage } from '../image/codec.js';
import { toUnitFloats } from '../image/rgb-image.js';
import { portraitFace } from './face-boxes.js';
import { faceInput } from './face-input.js';

/**
 * Model input from portraits (the London set: head and shoulders on a grey backdrop, the face in
 * the middle half of the frame), cropped to the face the way the course's test faces are: a square
 * of `margin` times the reference detector's box around it, resized to 64×64. Fed whole, a
 * portrait would test how the model takes a loose framing, not how it takes the person's face.
 * A photo whose face the reference detector cannot find is used whole, and counted.
 */
export async function faceCropTensor(files: string[], margin = 1.2): Promise<{ x: tf.Tensor4D; uncropped: string[] }> {
  const data = new Float32Array(files.length * 64 * 64 * 3);
  const uncropped: string[] = [];
  for (const [i, file] of files.entries()) {
    const image = readImage(file);
    const face = await portraitFace(image);
    let input: Float32Array;
    if (face) {
      const crop = sampleSquare(image, {
        cx: face.x + face.width / 2,
        cy: face.y + face.height * 0.45,
        size: Math.max(face.width, face.height) * margin,
      });
      input = toUnitFloats(crop);
    } else {
      uncropped.push(file);
      input = faceInput(image);
    }
    data.set(input, i * 64 * 64 * 3);
  }
  return { x: tf.tensor4d(data, [files.length, 64, 64, 3]), uncropped };
}
