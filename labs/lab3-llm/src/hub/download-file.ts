import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { RepoCache } from './cache-layout.js';
import { describeFailure, HubError } from './errors.js';
import { failureOf, hubHeaders, NetworkError, request } from './http.js';
import { withLock } from './lock.js';
import type { ByteProgress } from './progress.js';

/**
 * One file of a repo into the hub cache, as huggingface_hub's `hf_hub_download` does it: a HEAD on
 * the resolve URL gives the commit (X-Repo-Commit), the content's id (X-Linked-Etag for LFS files —
 * their SHA-256 — else ETag, the git blob SHA-1) and size (X-Linked-Size, else Content-Length);
 * the bytes go to blobs/<etag>.incomplete, resumed with a Range request after an interruption, and
 * are checked against that id before becoming blobs/<etag>; snapshots/<commit>/<file> then links to
 * the blob. Unlike huggingface_hub, every download is hashed: a file that does not match is deleted.
 */

/** What the hub says about a file before downloading it. */
export interface FileMetadata {
  commit: string;
  etag: string;
  size: number;
  /** Where the bytes are (the CDN for large files). */
  location: string;
}

/** Options shared by the file and snapshot downloads. */
export interface FetchContext {
  endpoint: string;
  repoId: string;
  /** The revision asked for (for messages). */
  revision: string;
  token?: string;
  progress?: ByteProgress;
  /** Attempts per file when the connection drops mid-body (each resumes where the last stopped). */
  attempts?: number;
  /** Milliseconds without a byte before a download is considered stalled. */
  idleTimeoutMs?: number;
}

/** The resolve URL of a file: `<endpoint>/<repo>/resolve/<revision>/<file>`. */
export function resolveUrl(endpoint: string, repoId: string, revision: string, filename: string): string {
  const file = filename.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/** An ETag as a file name: without W/ and quotes (huggingface_hub's `_normalize_etag`). */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"+|"+$/g, '');
}

/**
 * HEAD on the resolve URL: commit, etag, size and location of a file.
 * @throws HubError saying what is wrong (gated, missing, no token…); NetworkError when unreachable.
 */
export async function fileMetadata(ctx: FetchContext, commit: string, filename: string): Promise<FileMetadata> {
  const url = resolveUrl(ctx.endpoint, ctx.repoId, commit, filename);
  const { response, redirect } = await request(url, {
    method: 'HEAD',
    headers: hubHeaders(ctx.token),
    followAbsolute: false,
  });
  if (response.status >= 400) {
    throw new HubError(describeFailure(failureOf(response), { ...ctx, filename, hasToken: Boolean(ctx.token) }));
  }
  // The hub puts the file's headers on its answer to us, redirect or not.
  const h = response.headers;
  const etag = h.get('x-linked-etag') ?? h.get('etag');
  const size = Number(h.get('x-linked-size') ?? h.get('content-length'));
  const repoCommit = h.get('x-repo-commit') ?? redirect?.headers.get('x-repo-commit') ?? commit;
  if (!etag)
    throw new HubError(`${ctx.repoId}: the hub gave no ETag for ${filename}, so its download cannot be checked`);
  if (!Number.isFinite(size) || size < 0) throw new HubError(`${ctx.repoId}: the hub gave no size for ${filename}`);
  const location = response.status >= 300 && response.status <= 399 ? new URL(h.get('location')!, url).href : url;
  return { commit: repoCommit, etag: normalizeEtag(etag), size, location };
}

/** How a file's content is identified: LFS files by SHA-256, git files by their blob SHA-1. */
function expectedHash(
  etag: string,
  size: number,
): { algorithm: 'sha256' | 'sha1'; hex: string; prefix?: Buffer } | undefined {
  if (/^[0-9a-f]{64}$/.test(etag)) return { algorithm: 'sha256', hex: etag };
  // git hashes "blob <size>\0" followed by the content
  if (/^[0-9a-f]{40}$/.test(etag)) return { algorithm: 'sha1', hex: etag, prefix: Buffer.from(`blob ${size}\0`) };
  return undefined;
}

async function hashExisting(hash: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

/**
 * Downloads `meta` into blobs/<etag>, resuming a .incomplete left by an earlier attempt, and checks
 * size and hash. On a mismatch nothing is kept.
 */
async function downloadBlob(ctx: FetchContext, cache: RepoCache, filename: string, meta: FileMetadata): Promise<void> {
  const blob = cache.blob(meta.etag);
  const incomplete = `${blob}.incomplete`;
  mkdirSync(cache.blob(''), { recursive: true });
  const check = expectedHash(meta.etag, meta.size);
  const attempts = Math.max(1, ctx.attempts ?? 3);
  let lastError: unknown;
  ctx.progress?.file(filename, existsSync(incomplete) ? statSync(incomplete).size : 0);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let have = existsSync(incomplete) ? statSync(incomplete).size : 0;
    if (have > meta.size) {
      rmSync(incomplete, { force: true });
      ctx.progress?.retract(have);
      have = 0;
    }
    try {
      if (have < meta.size) await fetchInto(ctx, meta, incomplete, have, filename);
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      // Only a connection that dropped is worth another attempt; the hub's refusals are final.
      if (!(error instanceof NetworkError) || attempt === attempts) break;
    }
  }
  if (lastError) throw lastError;
  const got = statSync(incomplete).size;
  if (got !== meta.size) {
    rmSync(incomplete, { force: true });
    throw new HubError(
      `${filename} of ${ctx.repoId}: downloaded ${got} bytes but the hub said ${meta.size}; the partial file was removed, run again`,
    );
  }
  if (check) {
    const hash = createHash(check.algorithm);
    if (check.prefix) hash.update(check.prefix);
    await hashExisting(hash, incomplete);
    const actual = hash.digest('hex');
    if (actual !== check.hex) {
      rmSync(incomplete, { force: true });
      throw new HubError(
        `${filename} of ${ctx.repoId}: ${check.algorithm === 'sha256' ? 'SHA-256' : 'git SHA-1'} mismatch ` +
          `(the hub says ${check.hex}, the download is ${actual}); the file was not kept, run again`,
      );
    }
  }
  renameSync(incomplete, blob);
}

/** GETs the file from byte `from` on and appends it to `target`. */
async function fetchInto(ctx: FetchContext, meta: FileMetadata, target: string, from: number, filename: string) {
  // The token is for the hub: a CDN on another origin gets none (the URL it was given is signed).
  const sameOrigin = new URL(meta.location).origin === new URL(ctx.endpoint).origin;
  const headers = hubHeaders(sameOrigin ? ctx.token : undefined);
  if (from > 0) headers.range = `bytes=${from}-`;
  const idle = new AbortController();
  const { response } = await request(meta.location, { headers, followAbsolute: true, signal: idle.signal });
  if (response.status === 416 && from === meta.size) {
    await response.body?.cancel();
    return;
  }
  if (response.status >= 400 || !response.body) {
    await response.body?.cancel();
    throw new HubError(describeFailure(failureOf(response), { ...ctx, filename, hasToken: Boolean(ctx.token) }));
  }
  // A server that ignores Range sends the whole file: start over.
  const append = from > 0 && response.status === 206;
  if (from > 0 && !append) ctx.progress?.retract(from);
  const file = await open(target, append ? 'a' : 'w');
  let received = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(new Error('no data for too long')), ctx.idleTimeoutMs ?? 60_000);
  };
  try {
    arm();
    for await (const chunk of Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)) {
      arm();
      const bytes = chunk as Uint8Array;
      await file.write(bytes);
      received += bytes.length;
      ctx.progress?.add(bytes.length);
    }
  } catch (error) {
    const at = (append ? from : 0) + received;
    throw new NetworkError(
      `${filename} of ${ctx.repoId}: the connection dropped after ${at} of ${meta.size} bytes (${(error as Error).message}); ` +
        'run again to resume',
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    await file.close();
  }
}

/**
 * Makes `filename` (described by `meta`, from {@link fileMetadata}) present in the cache (downloading its blob unless a blob with its
 * etag is already there, from us or from Python) and returns its snapshot path.
 */
export async function downloadToCache(
  ctx: FetchContext,
  cache: RepoCache,
  filename: string,
  meta: FileMetadata,
): Promise<{ path: string; downloaded: boolean }> {
  const pointer = cache.pointer(meta.commit, filename);
  if (existsSync(pointer)) return { path: pointer, downloaded: false };
  const blob = cache.blob(meta.etag);
  let downloaded = false;
  if (!existsSync(blob)) {
    mkdirSync(cache.locks, { recursive: true });
    await withLock(path.join(cache.locks, `${meta.etag}.lock`), async () => {
      if (existsSync(blob)) return; // another process finished it while we waited
      await downloadBlob(ctx, cache, filename, meta);
      downloaded = true;
    });
  } else {
    ctx.progress?.file(filename, meta.size);
  }
  return { path: cache.link(meta.commit, filename, meta.etag), downloaded };
}
