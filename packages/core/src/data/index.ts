export { MiniBatches, subset, trainValidationSplit } from './batches.js';
export type { DatasetFile, DatasetSpec } from './dataset-spec.js';
export {
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  downloadFile,
  sha256File,
} from './download.js';
export { FASHION_MNIST, FASHION_MNIST_CLASSES, MNIST, MNIST_CLASSES } from './fashion-mnist.js';
export { decodeIdx, encodeIdx, type IdxArray, type IdxDtype, type IdxTypedArray, isGzip, readIdx } from './idx.js';
export {
  type ImageClassificationData,
  type LoadImageClassificationOptions,
  loadImageClassification,
  type Split,
} from './image-classification.js';
export {
  cacheDir,
  type DataStatus,
  type DatasetSource,
  dataRoot,
  dataStatus,
  type Env,
  type LocatedDataset,
  type LocateOptions,
  locateDataset,
} from './locate.js';
