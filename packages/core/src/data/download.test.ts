import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IntrodlError } from '../errors.js';
import { downloadFile, sha256File } from './download.js';

const BODY = Buffer.from('introdl test payload '.repeat(5000)); // ~100 kB: several chunks
const BODY_SHA256 = createHash('sha256').update(BODY).digest('hex');

let server: Server;
let base: string;
let dir: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (request.url === '/file') {
      response.writeHead(200, { 'content-length': BODY.length });
      response.end(BODY);
    } else if (request.url === '/drop') {
      // Promise the whole body, send a tenth of it, then cut the connection.
      response.writeHead(200, { 'content-length': BODY.length });
      response.write(BODY.subarray(0, BODY.length / 10), () => response.socket?.destroy());
    } else {
      response.writeHead(404, 'Not Found');
      response.end('no such thing');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'introdl-download-'));
  return () => rm(dir, { recursive: true, force: true });
});

describe('downloadFile', () => {
  it('downloads, verifies and reports progress', async () => {
    const dest = join(dir, 'sub', 'file.bin');
    const progress: number[] = [];
    const result = await downloadFile(`${base}/file`, dest, {
      sha256: BODY_SHA256.toUpperCase(), // hex case does not matter
      onProgress: (p) => {
        expect(p.totalBytes).toBe(BODY.length);
        progress.push(p.receivedBytes);
      },
    });
    expect(result).toEqual({ path: dest, bytes: BODY.length, sha256: BODY_SHA256 });
    expect(Buffer.compare(await readFile(dest), BODY)).toBe(0);
    expect(progress.at(-1)).toBe(BODY.length);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(await readdir(join(dir, 'sub'))).toEqual(['file.bin']); // no temporary file left
  });

  it('keeps nothing when the checksum does not match', async () => {
    const dest = join(dir, 'file.bin');
    const wrong = '0'.repeat(64);
    const error = await downloadFile(`${base}/file`, dest, { sha256: wrong }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntrodlError);
    expect((error as Error).message).toContain(`${base}/file`);
    expect((error as Error).message).toMatch(/SHA-256 mismatch/);
    expect((error as Error).message).toContain(BODY_SHA256);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports an HTTP error status', async () => {
    const dest = join(dir, 'file.bin');
    const error = await downloadFile(`${base}/missing`, dest, { sha256: BODY_SHA256 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntrodlError);
    expect((error as Error).message).toContain(`${base}/missing`);
    expect((error as Error).message).toMatch(/HTTP 404/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('reports a connection dropped mid-body and keeps nothing', async () => {
    const dest = join(dir, 'file.bin');
    const error = await downloadFile(`${base}/drop`, dest, { sha256: BODY_SHA256 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntrodlError);
    expect((error as Error).message).toContain(`${base}/drop`);
    expect((error as Error).message).toMatch(/failed after \d+ of 105000 bytes/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves an existing file alone when a new download fails', async () => {
    const dest = join(dir, 'file.bin');
    await writeFile(dest, 'old');
    await expect(downloadFile(`${base}/file`, dest, { sha256: '0'.repeat(64) })).rejects.toThrow(IntrodlError);
    expect(await readFile(dest, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['file.bin']);
  });

  it('reports a refused connection', async () => {
    // A port that was just free: listen on it, note it, close it.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise((resolve) => closed.close(resolve));
    const error = await downloadFile(url, join(dir, 'x'), { sha256: BODY_SHA256 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntrodlError);
    expect((error as Error).message).toMatch(/failed: fetch failed: .*ECONNREFUSED/);
    expect((error as Error).message).toContain(url);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('sha256File', () => {
  it('hashes a file', async () => {
    const path = join(dir, 'abc');
    await writeFile(path, 'abc');
    // The SHA-256 of "abc" from FIPS 180-2's examples.
    expect(await sha256File(path)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
