/**
 * Downloading a file so that the destination either holds the exact bytes asked for (checked by
 * SHA-256) or does not exist: a half-downloaded or tampered file is never left where a later run
 * would trust it.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { IntrodlError } from '../errors.js';
import { tempPathFor } from '../fs/atomic.js';

/** How far a download has got; `totalBytes` is undefined when the server does not say. */
export interface DownloadProgress {
  receivedBytes: number;
  totalBytes: number | undefined;
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** The expected SHA-256 of the file, in hex. Required: nothing is kept unverified. */
  sha256: string;
  /** Called after each chunk arrives. */
  onProgress?: (progress: DownloadProgress) => void;
  /** The fetch to use; tests and proxies can pass their own. Defaults to the global fetch. */
  fetchImpl?: typeof fetch;
  /** Aborts the download. */
  signal?: AbortSignal;
}

/** What {@link downloadFile} wrote. */
export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
}

/** The SHA-256 of a file's bytes, in lowercase hex. Streams, so large files are fine. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Downloads `url` to `dest`. The body streams into `dest.part-<random>` while being hashed; only
 * when the SHA-256 matches is it renamed to `dest`. Follows redirects.
 *
 * @throws IntrodlError naming the URL when the server answers with an error status, the
 *   connection fails or drops mid-body, or the checksum does not match. The temporary file is
 *   deleted and nothing is written at `dest`.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<DownloadResult> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const expected = options.sha256.toLowerCase();
  await mkdir(dirname(dest), { recursive: true });
  const temp = tempPathFor(dest);
  try {
    // identity: a server that gzips on the fly would make fetch hand back other bytes than the
    // file's, and the checksum is of the file.
    const response = await fetchImpl(url, { headers: { 'accept-encoding': 'identity' }, signal: options.signal });
    if (!response.ok) {
      await response.body?.cancel();
      throw new IntrodlError(`download of ${url} failed: HTTP ${response.status} ${response.statusText}`.trimEnd());
    }
    if (!response.body) throw new IntrodlError(`download of ${url} failed: the response has no body`);

    const lengthHeader = response.headers.get('content-length');
    const totalBytes = lengthHeader === null ? undefined : Number(lengthHeader);
    const hash = createHash('sha256');
    let receivedBytes = 0;
    // Open the file before reading: a write stream opens lazily, and on an early error its open
    // could land after the cleanup below and leave a stray file.
    const file = await open(temp, 'w');
    try {
      for await (const chunk of Readable.fromWeb(response.body as WebReadableStream<Uint8Array>)) {
        const bytes = chunk as Uint8Array;
        hash.update(bytes);
        await file.write(bytes);
        receivedBytes += bytes.length;
        options.onProgress?.({ receivedBytes, totalBytes });
      }
    } catch (error) {
      const of = totalBytes === undefined ? '' : ` of ${totalBytes}`;
      throw new IntrodlError(`download of ${url} failed after ${receivedBytes}${of} bytes: ${describe(error)}`, {
        cause: error,
      });
    } finally {
      await file.close();
    }

    const actual = hash.digest('hex');
    if (actual !== expected) {
      throw new IntrodlError(
        `download of ${url} failed: SHA-256 mismatch (expected ${expected}, got ${actual} for ${receivedBytes} bytes); ` +
          'the file was not kept',
      );
    }
    await rename(temp, dest);
    return { path: dest, bytes: receivedBytes, sha256: actual };
  } catch (error) {
    await rm(temp, { force: true });
    if (error instanceof IntrodlError) throw error;
    throw new IntrodlError(`download of ${url} failed: ${describe(error)}`, { cause: error });
  }
}

/**
 * An error's message followed by its causes'. fetch says only "fetch failed" or "terminated" and
 * puts the useful part (connection refused, other side closed) in `cause`.
 */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    parts.push(e instanceof Error ? e.message : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ');
}
