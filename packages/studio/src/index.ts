/**
 * The lab studio: a local web app over run folders (songs, face boxes, chat, loss curves).
 * @packageDocumentation
 */
export { commands } from './commands.js';
export type {
  ChatRequest,
  ChatStream,
  DetectFaces,
  FaceBox,
  LabFeatures,
  LabViews,
  RgbaImage,
} from './server/lab-contract.js';
export { loadLabs } from './server/labs.js';
export { listRuns, type OutputFile, type RunSummary, readRun } from './server/runs-index.js';
export { resolveInside } from './server/safe-path.js';
export { DEFAULT_APP_DIR, type Studio, type StudioOptions, startStudio } from './server/server.js';
