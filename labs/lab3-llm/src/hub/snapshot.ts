import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { COMMIT_HASH, RepoCache } from './cache-layout.js';
import { downloadToCache, type FetchContext, type FileMetadata, fileMetadata } from './download-file.js';
import { hubCacheDir, hubEndpoint, hubOffline, hubToken } from './env.js';
import { describeFailure, HubError } from './errors.js';
import { failureOf, hubHeaders, NetworkError, request } from './http.js';
import { ByteProgress, type ByteProgressOptions, humanBytes } from './progress.js';

/**
 * A model by name — `org/name` or `org/name@revision` — made available as a local folder: the
 * snapshot folder of the hub cache, downloaded when needed (what `snapshot_download` does, limited
 * to the files a decoder needs), or found in the cache alone when offline.
 */

/** A parsed `--model org/name[@revision]`. */
export interface HubModelSpec {
  repoId: string;
  revision: string;
}

const NAME = /^(?![.-])[A-Za-z0-9_.-]{1,96}(?<![.-])$/;

/**
 * Parses `org/name[@revision]` (revision: a branch, tag or commit hash; default main), or returns
 * undefined when `spec` is not such a name. Names follow the hub's rules: letters, digits, `-`, `_`,
 * `.`, at most 96 characters, no `--` or `..`, not starting or ending with `-` or `.`.
 */
export function parseModelSpec(spec: string): HubModelSpec | undefined {
  const at = spec.indexOf('@');
  const repoId = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  const parts = repoId.split('/');
  if (parts.length !== 2 || !parts.every((p) => NAME.test(p) && !p.includes('--') && !p.includes('..'))) {
    return undefined;
  }
  if (!revision || /[\s\\]|\.\./.test(revision) || revision.startsWith('/')) return undefined;
  return { repoId, revision };
}

/** Files a decoder and its tokenizer use, besides the weights. */
const OPTIONAL_FILES = [
  'generation_config.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'added_tokens.json',
  'chat_template.jinja',
  'chat_template.json',
];
const REQUIRED_FILES = ['config.json', 'tokenizer.json'];
const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

/** The shards an index lists. */
function shardsOf(indexFile: string): string[] {
  let map: unknown;
  try {
    map = JSON.parse(readFileSync(indexFile, 'utf8')).weight_map;
  } catch (error) {
    throw new HubError(`${indexFile}: not valid JSON (${(error as Error).message})`);
  }
  if (!map || typeof map !== 'object') throw new HubError(`${indexFile}: no "weight_map"`);
  const shards = [...new Set(Object.values(map as Record<string, string>))];
  for (const s of shards) {
    if (typeof s !== 'string' || s.includes('/') || s.includes('\\') || !s.endsWith('.safetensors')) {
      throw new HubError(`${indexFile}: bad shard name ${JSON.stringify(s)}`);
    }
  }
  return shards;
}

/** What is missing from a snapshot folder for loading a model (empty when complete). */
export function missingFiles(folder: string): string[] {
  const missing = REQUIRED_FILES.filter((f) => !existsSync(path.join(folder, f)));
  if (existsSync(path.join(folder, SINGLE))) return missing;
  if (!existsSync(path.join(folder, INDEX))) return [...missing, `${SINGLE} (or ${INDEX} and its shards)`];
  return [...missing, ...shardsOf(path.join(folder, INDEX)).filter((s) => !existsSync(path.join(folder, s)))];
}

/** Options of {@link resolveHubModel}; each defaults to the environment, as huggingface_hub's do. */
export interface ResolveOptions {
  cacheDir?: string;
  endpoint?: string;
  token?: string;
  offline?: boolean;
  progress?: ByteProgressOptions;
  log?: (message: string) => void;
  /** Attempts per file when a connection drops (each resumes). Default 3. */
  attempts?: number;
  env?: NodeJS.ProcessEnv;
}

/** Where a model was found. */
export interface ResolvedModel {
  folder: string;
  commit: string;
  /** Files fetched by this call (empty when everything was cached). */
  downloaded: string[];
  /** True when the cache was used without asking the hub. */
  offline: boolean;
}

/** The model from the cache alone, or a one-line error saying what is missing and how to get it. */
function fromCache(spec: HubModelSpec, cache: RepoCache, why: string): ResolvedModel {
  const name = `${spec.repoId}${spec.revision === 'main' ? '' : `@${spec.revision}`}`;
  const how =
    `run \`introdl lab3 generate --model ${name}\` once with network access (without HF_HUB_OFFLINE), ` +
    `or \`hf download ${spec.repoId}${spec.revision === 'main' ? '' : ` --revision ${spec.revision}`}\`, or pass --model <folder>`;
  const commit = cache.commitOf(spec.revision);
  if (!commit || !existsSync(cache.snapshot(commit))) {
    throw new HubError(`${name} is not in the Hugging Face cache (${cache.root}) and ${why}: ${how}`);
  }
  const missing = missingFiles(cache.snapshot(commit));
  if (missing.length) {
    throw new HubError(
      `${name} is only partly in the Hugging Face cache (${cache.snapshot(commit)} lacks ${missing.join(', ')}) and ${why}: ${how}`,
    );
  }
  return { folder: cache.snapshot(commit), commit, downloaded: [], offline: true };
}

/** GET /api/models/<repo>/revision/<revision>: the commit and the file list. */
async function repoInfo(ctx: FetchContext): Promise<{ commit: string; files: string[] }> {
  const url = `${ctx.endpoint}/api/models/${ctx.repoId}/revision/${encodeURIComponent(ctx.revision)}`;
  const { response } = await request(url, { headers: hubHeaders(ctx.token), followAbsolute: true });
  if (response.status >= 400) {
    await response.body?.cancel();
    throw new HubError(describeFailure(failureOf(response), { ...ctx, hasToken: Boolean(ctx.token) }));
  }
  let info: { sha?: unknown; siblings?: { rfilename?: unknown }[] };
  try {
    info = (await response.json()) as typeof info;
  } catch (error) {
    throw new HubError(`${url}: the hub's answer is not JSON (${(error as Error).message})`);
  }
  const commit = String(info.sha ?? '');
  if (!COMMIT_HASH.test(commit)) throw new HubError(`${url}: the hub's answer has no commit hash`);
  const files = (info.siblings ?? []).map((s) => String(s.rfilename ?? '')).filter(Boolean);
  return { commit, files };
}

/**
 * Makes `org/name[@revision]` available locally and returns its snapshot folder. Online, the hub is
 * asked for the revision's commit and file list, and the files a decoder needs — config, generation
 * config, tokenizer files, chat template, `model.safetensors` or the index and its shards — are
 * downloaded into the hub cache unless already there (blobs are shared with Python's downloads).
 * With `HF_HUB_OFFLINE=1`, or when the hub cannot be reached, the cache alone is used.
 * @throws HubError with one line saying what is wrong and what to do.
 */
export async function resolveHubModel(spec: HubModelSpec, options: ResolveOptions = {}): Promise<ResolvedModel> {
  const env = options.env ?? process.env;
  const cache = new RepoCache(options.cacheDir ?? hubCacheDir(env), spec.repoId);
  if (options.offline ?? hubOffline(env)) return fromCache(spec, cache, 'HF_HUB_OFFLINE=1 forbids downloading it');
  const ctx: FetchContext = {
    endpoint: options.endpoint ?? hubEndpoint(env),
    repoId: spec.repoId,
    revision: spec.revision,
    token: options.token ?? hubToken(env),
    attempts: options.attempts,
  };
  let info: { commit: string; files: string[] };
  try {
    info = await repoInfo(ctx);
  } catch (error) {
    if (!(error instanceof NetworkError)) throw error;
    // As huggingface_hub does: no connection, but the cache has it — use the cache.
    const found = fromCache(spec, cache, `the hub cannot be reached (${error.message})`);
    options.log?.(`${spec.repoId}: the hub cannot be reached; using the cached snapshot ${found.commit.slice(0, 8)}`);
    return found;
  }
  cache.writeRef(spec.revision, info.commit);
  const files = new Set(info.files);
  for (const f of REQUIRED_FILES) {
    if (!files.has(f)) throw new HubError(`${spec.repoId}@${spec.revision} has no ${f}, which this lab needs`);
  }
  if (!files.has(SINGLE) && !files.has(INDEX)) {
    throw new HubError(
      `${spec.repoId}@${spec.revision} has no safetensors weights (${SINGLE} or ${INDEX}); PyTorch .bin and GGUF files are not read`,
    );
  }
  const downloaded: string[] = [];
  const fetchOne = async (filename: string, meta: FileMetadata) => {
    const r = await downloadToCache(ctx, cache, filename, meta);
    if (r.downloaded) downloaded.push(filename);
    return r.path;
  };
  // Small files first (config, tokenizer, the index that names the shards), then the weights.
  const small = [...REQUIRED_FILES, ...OPTIONAL_FILES.filter((f) => files.has(f))];
  const weights = files.has(SINGLE) ? [SINGLE] : [INDEX];
  const first = [...small, ...(weights[0] === INDEX ? [INDEX] : [])];
  const metas = new Map<string, FileMetadata>();
  for (const f of first) metas.set(f, await fileMetadata(ctx, info.commit, f));
  for (const f of first) await fetchOne(f, metas.get(f)!);
  const big = weights[0] === INDEX ? shardsOf(cache.pointer(info.commit, INDEX)) : [SINGLE];
  for (const f of big) {
    if (!files.has(f))
      throw new HubError(`${spec.repoId}@${spec.revision}: ${INDEX} lists ${f}, which the repository does not have`);
    metas.set(f, await fileMetadata(ctx, info.commit, f));
  }
  const toFetch = big.filter(
    (f) => !existsSync(cache.pointer(info.commit, f)) && !existsSync(cache.blob(metas.get(f)!.etag)),
  );
  if (toFetch.length) {
    const total = toFetch.reduce((n, f) => n + metas.get(f)!.size, 0);
    options.log?.(
      `${spec.repoId}: downloading ${toFetch.length} weight file(s), ${humanBytes(total)}, into ${cache.root}`,
    );
    ctx.progress = new ByteProgress(total, options.progress);
  }
  for (const f of big) await fetchOne(f, metas.get(f)!);
  ctx.progress?.finish();
  const folder = cache.snapshot(info.commit);
  const missing = missingFiles(folder);
  if (missing.length) throw new HubError(`${folder} still lacks ${missing.join(', ')} after the download`);
  return { folder, commit: info.commit, downloaded, offline: false };
}
