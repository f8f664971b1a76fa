import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MissingDataError, MissingFileError } from '../errors.js';
import type { DatasetSpec } from './dataset-spec.js';
import { cacheDir, dataRoot, dataStatus, locateDataset } from './locate.js';

const CONTENT: Record<string, string> = { 'a.bin': 'first file', 'b.bin': 'second file' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let server: Server;
let base: string;
const requests: string[] = [];
let tmp: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const body = CONTENT[(request.url ?? '').slice(1)];
    response.writeHead(body === undefined ? 404 : 200);
    response.end(body ?? 'not found');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((done) => server.close(done));
});
beforeEach(async () => {
  requests.length = 0;
  tmp = await mkdtemp(join(tmpdir(), 'introdl-locate-'));
  return () => rm(tmp, { recursive: true, force: true });
});

/** A two-file data set served by the test server, with an optional Debian-style system folder. */
function spec(overrides: Partial<DatasetSpec> = {}): DatasetSpec {
  return {
    name: 'Toy',
    description: 'two small files',
    license: 'MIT',
    source: 'https://example.org/toy',
    dataDirName: 'toy',
    files: Object.keys(CONTENT).map((name) => ({ name, url: `${base}/${name}`, sha256: sha256(CONTENT[name]) })),
    ...overrides,
  };
}

async function makeDataDir(dir: string, names = Object.keys(CONTENT)): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of names) await writeFile(join(dir, name), CONTENT[name]);
}

describe('dataRoot and cacheDir', () => {
  it('resolve INTRODL_DATA and prefer INTRODL_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(dataRoot({})).toBeUndefined();
    expect(dataRoot({ INTRODL_DATA: 'rel/data' })).toBe(resolve('rel/data'));
    expect(cacheDir({ INTRODL_CACHE: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/introdl');
    expect(cacheDir({ XDG_CACHE_HOME: 'relative' })).toBe(join(homedir(), '.cache', 'introdl'));
    expect(cacheDir({})).toBe(join(homedir(), '.cache', 'introdl'));
  });

  it('read process.env by default', () => {
    const saved = process.env.INTRODL_DATA;
    process.env.INTRODL_DATA = '/from/env';
    try {
      expect(dataRoot()).toBe('/from/env');
    } finally {
      if (saved === undefined) delete process.env.INTRODL_DATA;
      else process.env.INTRODL_DATA = saved;
    }
  });
});

describe('locateDataset', () => {
  it('downloads into the cache once, then finds it there without the network', async () => {
    const env = { INTRODL_CACHE: join(tmp, 'cache') };
    const first = await locateDataset(spec(), { env });
    expect(first.source).toBe('downloaded');
    expect(first.dir).toBe(join(tmp, 'cache', 'toy'));
    expect(await readFile(first.files['a.bin'], 'utf8')).toBe('first file');
    expect(await readFile(first.files['b.bin'], 'utf8')).toBe('second file');
    expect(requests.sort()).toEqual(['/a.bin', '/b.bin']);

    const second = await locateDataset(spec(), { env });
    expect(second).toEqual({ ...first, source: 'cache' });
    expect(requests).toHaveLength(2);
  });

  it('downloads only the files the cache lacks', async () => {
    const env = { INTRODL_CACHE: join(tmp, 'cache') };
    await makeDataDir(join(tmp, 'cache', 'toy'), ['a.bin']);
    const located = await locateDataset(spec(), { env });
    expect(located.source).toBe('downloaded');
    expect(requests).toEqual(['/b.bin']);
  });

  it('uses an explicit folder and nothing else', async () => {
    await makeDataDir(join(tmp, 'mine'));
    const located = await locateDataset(spec(), { path: join(tmp, 'mine'), env: {} });
    expect(located).toEqual({
      dir: join(tmp, 'mine'),
      source: 'explicit',
      files: { 'a.bin': join(tmp, 'mine', 'a.bin'), 'b.bin': join(tmp, 'mine', 'b.bin') },
    });
    expect(requests).toEqual([]);
  });

  it('names the file an explicit folder lacks', async () => {
    await makeDataDir(join(tmp, 'mine'), ['a.bin']);
    const error = await locateDataset(spec(), { path: join(tmp, 'mine'), env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingFileError);
    expect((error as MissingFileError).file).toBe(join(tmp, 'mine', 'b.bin'));
    expect(requests).toEqual([]);
  });

  it('rejects an explicit folder that does not exist', async () => {
    const error = await locateDataset(spec(), { path: join(tmp, 'nope'), env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingFileError);
    expect((error as Error).message).toContain(join(tmp, 'nope'));
  });

  it('prefers INTRODL_DATA over system folders over the cache', async () => {
    const env = { INTRODL_DATA: join(tmp, 'data'), INTRODL_CACHE: join(tmp, 'cache') };
    const system = join(tmp, 'system', 'toy');
    const withSystem = spec({ systemDirs: [join(tmp, 'absent'), system] });
    await makeDataDir(join(tmp, 'cache', 'toy'));
    expect((await locateDataset(withSystem, { env })).source).toBe('cache');
    await makeDataDir(system);
    expect(await locateDataset(withSystem, { env })).toMatchObject({ source: 'system', dir: system });
    await makeDataDir(join(tmp, 'data', 'toy'));
    expect(await locateDataset(withSystem, { env })).toMatchObject({
      source: 'INTRODL_DATA',
      dir: join(tmp, 'data', 'toy'),
    });
    expect(requests).toEqual([]);
  });

  it('says where it looked and how to fix it when nothing is found', async () => {
    const env = { INTRODL_CACHE: join(tmp, 'cache') };
    await makeDataDir(join(tmp, 'cache', 'toy'), ['a.bin']);
    const toy = spec({ systemDirs: ['/nonexistent/toy'], debianPackage: 'dataset-toy' });
    const error = await locateDataset(toy, { env, download: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDataError);
    const message = (error as Error).message;
    expect(message).toContain('Toy was not found');
    expect(message).toContain('$INTRODL_DATA/toy: INTRODL_DATA is not set');
    expect(message).toContain('/nonexistent/toy: no such folder');
    expect(message).toContain(`${join(tmp, 'cache', 'toy')}: missing b.bin`);
    expect(message).toContain('Downloading is turned off');
    expect(message).toContain('set INTRODL_DATA');
    expect(message).toContain('--data');
    expect(message).toContain('sudo apt install dataset-toy');
    expect(requests).toEqual([]);
  });

  it('does not download files without a checksum', async () => {
    const env = { INTRODL_CACHE: join(tmp, 'cache') };
    const unchecked = spec();
    delete unchecked.files[1].sha256;
    const error = await locateDataset(unchecked, { env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDataError);
    expect((error as Error).message).toContain('no URL with a known SHA-256 for b.bin');
    expect((error as Error).message).not.toContain('apt install');
    expect(requests).toEqual([]);
  });

  it('reports a failed download with the places looked, and leaves no file', async () => {
    const env = { INTRODL_CACHE: join(tmp, 'cache') };
    const broken = spec();
    broken.files[0].url = `${base}/gone.bin`;
    const error = await locateDataset(broken, { env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDataError);
    expect((error as Error).message).toMatch(/Downloading failed: download of .*\/gone\.bin failed: HTTP 404/);
    expect(await readdir(join(tmp, 'cache', 'toy'))).toEqual([]);
  });
});

describe('dataStatus', () => {
  it('reports INTRODL_DATA and the cache folder', async () => {
    await mkdir(join(tmp, 'data'));
    const status = await dataStatus({ INTRODL_DATA: join(tmp, 'data'), INTRODL_CACHE: join(tmp, 'new', 'cache') });
    expect(status.dataRoot).toEqual({ variable: 'INTRODL_DATA', set: true, path: join(tmp, 'data'), exists: true });
    // The cache does not exist yet but can be created inside tmp.
    expect(status.cache).toEqual({
      path: join(tmp, 'new', 'cache'),
      from: 'INTRODL_CACHE',
      exists: false,
      writable: true,
    });
  });

  it('reports an unset INTRODL_DATA and a cache that cannot be written', async () => {
    const locked = join(tmp, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    try {
      const status = await dataStatus({ XDG_CACHE_HOME: locked });
      expect(status.dataRoot).toEqual({ variable: 'INTRODL_DATA', set: false, exists: false });
      expect(status.cache.from).toBe('XDG_CACHE_HOME');
      expect(status.cache.exists).toBe(false);
      // root ignores permission bits, so only check this as an ordinary user.
      if (process.getuid?.() !== 0) expect(status.cache.writable).toBe(false);
    } finally {
      await chmod(locked, 0o700);
    }
  });

  it('reports a cache path under a plain file as not writable', async () => {
    await writeFile(join(tmp, 'plain'), '');
    const status = await dataStatus({ INTRODL_CACHE: join(tmp, 'plain', 'cache') });
    expect(status.cache).toMatchObject({ exists: false, writable: false });
  });
});
