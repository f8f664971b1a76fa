/**
 * Models by name from the Hugging Face hub, into the hub's own cache (shared with Python's
 * huggingface_hub), with resume, hash checks, tokens for gated models and an offline mode.
 * @packageDocumentation
 */
export { COMMIT_HASH, RepoCache, repoFolderName } from './cache-layout.js';
export {
  downloadToCache,
  type FetchContext,
  type FileMetadata,
  fileMetadata,
  normalizeEtag,
  resolveUrl,
} from './download-file.js';
export { hfHome, hubCacheDir, hubEndpoint, hubOffline, hubToken } from './env.js';
export { describeFailure, HubError } from './errors.js';
export { withLock } from './lock.js';
export { ByteProgress, humanBytes } from './progress.js';
export {
  type HubModelSpec,
  missingFiles,
  parseModelSpec,
  type ResolvedModel,
  type ResolveOptions,
  resolveHubModel,
} from './snapshot.js';
