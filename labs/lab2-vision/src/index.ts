/**
 * @introdl/lab2-vision: MIT 6.S191 Lab 2 in TypeScript. Part 1 classifies 28×28 images
 * (Fashion-MNIST, or MNIST) with a fully connected network and a CNN; Part 2 trains a face
 * classifier and a debiasing VAE (DB-VAE) on the course's HDF5 face data, reports P(face) by
 * demographic group with bootstrap intervals, and detects faces in whole photos.
 * @packageDocumentation
 */
export { commands } from './commands.js';
export { restoreCompactModel, writeCompactModel } from './compact-model.js';
/** Metadata for the studio's Lab 2 page. */
export const views = {
  title: 'Lab 2: face detection',
  description: 'Faces found by the lab’s sliding-window classifier and by MediaPipe, and the bias report.',
};
export { bestMatches, iou, nonMaxSuppression, type ScoredBox } from './detect/boxes.js';
export { type DetectorSettings, detectorSettings } from './detect/detector-settings.js';
export { referenceDetect } from './detect/reference-detector.js';
export {
  type Detection,
  detectFaces as slidingWindowDetect,
  faceBoxOfWindow,
  type SlidingWindowOptions,
  windowBoxes,
} from './detect/sliding-window.js';
export { detectFaces, type RgbaPixels, type StudioFaceBox } from './detect/studio-detect.js';
export { type DigitsData, type DigitsDataset, loadDigits } from './digits/data.js';
export { countCorrect, evaluateDigits, predictProbabilities } from './digits/evaluate.js';
export { buildCnnModel, buildFcModel, countParameters, DIGIT_INPUT_SHAPE } from './digits/models.js';
export { type TrainDigitsOptions, type TrainDigitsResult, trainDigits } from './digits/train.js';
export {
  biasChartSpec,
  biasReportMarkdown,
  type ModelResult,
  type SetResult,
  summariseModel,
} from './faces/bias-report.js';
export { bootstrapInterval } from './faces/bootstrap.js';
export { type BuildDatasetOptions, buildFaceDataset } from './faces/build-dataset.js';
export { FACE_INPUT_SHAPE, makeStandardClassifier } from './faces/classifier.js';
export { FACE_GROUPS, type FaceGroup, faceFolders } from './faces/course-data.js';
export { DbVae, LATENT_DIM } from './faces/dbvae.js';
export { debiasingLoss, KL_WEIGHT, sampleLatent, vaeLoss } from './faces/dbvae-losses.js';
export { makeFaceDecoder } from './faces/decoder.js';
export { evaluateFaces } from './faces/evaluate-faces.js';
export { type BatchOptions, FaceDataset } from './faces/face-dataset.js';
export { faceInput, faceProbabilities, faceTensorFromFiles } from './faces/face-input.js';
export { inverseDensityWeights, trainingSampleProbabilities } from './faces/resampling.js';
export { BadProbabilitiesError, checkProbabilities, sampleWithoutReplacement } from './faces/sampling.js';
export { trainFaces } from './faces/train-faces.js';
export { rgbToBgrInto, writeFaceFile } from './faces/write-face-file.js';
export { rubric } from './grading/rubric.js';
export { decodeImage, encodePng, readImage, writePng } from './image/codec.js';
export { resizeBilinear } from './image/resize.js';
export type { Box, RgbImage } from './image/rgb-image.js';
export { buildModel, type LabModel, loadModel, type ModelKind } from './model-store.js';
export { predict } from './predict.js';
