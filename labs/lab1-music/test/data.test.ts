import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BadFileError, BadFlagError, type DatasetSpec, MissingDataError, Rng } from '@introdl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBatch, sequentialWindows } from '../src/data/batches.js';
import { IRISH_ABC, loadCorpus } from '../src/data/dataset.js';
import { extractSongSnippets, joinSongs } from '../src/data/songs.js';
import { groupTunes, splitSongs } from '../src/data/split.js';
import { Vocabulary, vectorize } from '../src/data/vocab.js';
import { makeCorpus, TUNE_A, TUNE_B } from './fixtures.js';

const dir = mkdtempSync(path.join(tmpdir(), 'lab1-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('extractSongSnippets (the course rule)', () => {
  it('takes every block that a blank line follows', () => {
    expect(extractSongSnippets(`${TUNE_A}\n\n${TUNE_B}\n\n`)).toEqual([TUNE_A, TUNE_B]);
  });

  it('drops a last song without a trailing blank line, as the course does', () => {
    expect(extractSongSnippets(`${TUNE_A}\n\n${TUNE_B}`)).toEqual([TUNE_A]);
    expect(extractSongSnippets(TUNE_A)).toEqual([]);
  });

  it('counts blank lines inside a tune as separate snippets, and keeps leading newlines', () => {
    // Three newlines yield the tune twice, as the course's overlapped regex does.
    expect(extractSongSnippets('a\n\nb\n\n\nc\n\n')).toEqual(['a', 'b', '\nc', 'c']);
  });

  it('matches the overlapped regex on edge cases', () => {
    // `(^|\n\n)(.*?)\n\n`, overlapped: at position 0 the `^` alternative wins.
    expect(extractSongSnippets('\n\n\n\nbb')).toEqual(['']);
    expect(extractSongSnippets('\n\nx\n\n')).toEqual(['']);
    expect(extractSongSnippets('')).toEqual([]);
  });

  it('joins with blank lines', () => {
    expect(joinSongs(['a', 'b'])).toBe('a\n\nb');
  });
});

describe('Vocabulary and vectorize', () => {
  it('sorts characters by code point and maps them to their index', () => {
    const v = Vocabulary.fromText('ba\n a');
    expect(v.chars).toEqual(['\n', ' ', 'a', 'b']);
    expect(Array.from(vectorize('ab\n', v))).toEqual([2, 3, 0]);
    expect(v.decode([3, 2, 1])).toBe('ba ');
    expect(Vocabulary.fromString(v.toString()).equals(v)).toBe(true);
  });

  it('names characters outside the vocabulary', () => {
    const v = Vocabulary.fromText('abc');
    expect(() => vectorize('abz€', v)).toThrow(BadFlagError);
    expect(() => vectorize('abz€', v)).toThrow(/"z", "€" are not in the model's 3-character vocabulary/);
  });
});

describe('getBatch: the course three checks', () => {
  const vec = Int32Array.from({ length: 500 }, (_, i) => i % 83);

  it('returns two arrays (inputs and targets)', () => {
    const b = getBatch(vec, 10, 2, new Rng(0));
    expect(b.x).toBeInstanceOf(Int32Array);
    expect(b.y).toBeInstanceOf(Int32Array);
  });

  it('both of shape [batch, seq]', () => {
    const b = getBatch(vec, 10, 2, new Rng(0));
    expect([b.batchSize, b.seqLength]).toEqual([2, 10]);
    expect(b.x.length).toBe(20);
    expect(b.y.length).toBe(20);
  });

  it('the targets are the inputs shifted by one: x[:, 1:] == y[:, :-1]', () => {
    const b = getBatch(vec, 10, 4, new Rng(1));
    for (let r = 0; r < 4; r++) {
      const x = b.x.subarray(r * 10, r * 10 + 10);
      const y = b.y.subarray(r * 10, r * 10 + 10);
      expect(Array.from(x.subarray(1))).toEqual(Array.from(y.subarray(0, 9)));
      // and each row is a real window of the text
      const start = x[0];
      expect(Array.from(y)).toEqual(Array.from(vec.subarray(start + 1, start + 11)));
    }
  });

  it('draws every start in [0, n − L) with n = len − 1, seeded', () => {
    const small = Int32Array.from({ length: 13 }, (_, i) => i); // n = 12, L = 10: starts 0 or 1
    const seen = new Set<number>();
    const rng = new Rng(3);
    for (let i = 0; i < 200; i++) seen.add(getBatch(small, 10, 1, rng).x[0]);
    expect([...seen].sort()).toEqual([0, 1]);
    expect(Array.from(getBatch(vec, 5, 3, new Rng(7)).x)).toEqual(Array.from(getBatch(vec, 5, 3, new Rng(7)).x));
  });

  it('refuses a text too short for one window', () => {
    expect(() => getBatch(Int32Array.from([1, 2, 3]), 5, 1, new Rng(0))).toThrow(BadFlagError);
  });

  it('sequential windows tile the text without overlap', () => {
    const windows = [
      ...sequentialWindows(
        Int32Array.from({ length: 25 }, (_, i) => i),
        4,
        4,
      ),
    ];
    expect(windows.map((w) => w.batchSize)).toEqual([4, 2]); // 6 windows of 4 from 24 transitions
    expect(Array.from(windows[1].x)).toEqual([16, 17, 18, 19, 20, 21, 22, 23]);
    expect(Array.from(windows[1].y)).toEqual([17, 18, 19, 20, 21, 22, 23, 24]);
  });
});

describe('splitSongs: a seeded held-out split of whole tunes', () => {
  it('keeps a tune split by a blank line on one side', () => {
    const songs = ['X:1\nT:a', 'rest of a', 'X:2\nT:b', 'X:3\nT:c', '\nX:4\nT:d', 'X:4\nT:d'];
    expect(groupTunes(songs)).toEqual([[0, 1], [2], [3], [4, 5]]);
    for (let seed = 0; seed < 20; seed++) {
      const { train, heldOut } = splitSongs(songs, 0.25, seed);
      expect(train.includes('X:1\nT:a')).toBe(train.includes('rest of a'));
      expect(train.includes('X:4\nT:d')).toBe(train.includes('\nX:4\nT:d'));
      expect(heldOut).toHaveLength(heldOut.includes('rest of a') || heldOut.includes('X:4\nT:d') ? 2 : 1);
      expect(train.length + heldOut.length).toBe(6);
    }
  });

  it('holds out 10% of the tunes, the same ones for the same seed', () => {
    const songs = extractSongSnippets(makeCorpus(50));
    const a = splitSongs(songs, 0.1, 1);
    expect(a.heldOut).toHaveLength(5);
    expect(splitSongs(songs, 0.1, 1)).toEqual(a);
    expect(splitSongs(songs, 0.1, 2).heldOut).not.toEqual(a.heldOut);
  });
});

describe('loadCorpus: explicit path, INTRODL_DATA, cache, download', () => {
  const corpus = makeCorpus(6);
  const bytes = Buffer.from(corpus);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let server: Server;
  let base: string;
  let requests = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/irish.abc') res.end(bytes);
      else if (req.url === '/tampered.abc') res.end(Buffer.from(`${corpus}X`));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const spec = (file: string): DatasetSpec => ({
    ...IRISH_ABC,
    files: [{ name: 'irish.abc', url: `${base}/${file}`, sha256 }],
  });

  it('reads an explicit file or folder', async () => {
    const folder = path.join(dir, 'explicit');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'irish.abc'), corpus);
    const fromFolder = await loadCorpus({ path: folder, download: false });
    expect(fromFolder.source).toBe('explicit');
    expect(fromFolder.songs).toHaveLength(6);
    const fromFile = await loadCorpus({ path: path.join(folder, 'irish.abc') });
    expect(fromFile.songs).toEqual(fromFolder.songs);
  });

  it('looks under INTRODL_DATA/lab1-music before the cache', async () => {
    const root = path.join(dir, 'data-root');
    mkdirSync(path.join(root, 'lab1-music'), { recursive: true });
    writeFileSync(path.join(root, 'lab1-music', 'irish.abc'), corpus);
    const found = await loadCorpus({
      env: { INTRODL_DATA: root, INTRODL_CACHE: path.join(dir, 'nocache') },
      download: false,
    });
    expect(found.source).toBe('INTRODL_DATA');
  });

  it('downloads once into the cache with a SHA-256 check, then reads the cache', async () => {
    const env = { INTRODL_CACHE: path.join(dir, 'cache') };
    const before = requests;
    const first = await loadCorpus({ spec: spec('irish.abc'), env });
    expect(first.source).toBe('downloaded');
    expect(first.file).toBe(path.join(dir, 'cache', 'lab1-music', 'irish.abc'));
    expect(first.songs).toHaveLength(6);
    const second = await loadCorpus({ spec: spec('irish.abc'), env });
    expect(second.source).toBe('cache');
    expect(requests - before).toBe(1);
  });

  it('keeps nothing when the checksum does not match', async () => {
    const env = { INTRODL_CACHE: path.join(dir, 'cache-bad') };
    await expect(loadCorpus({ spec: spec('tampered.abc'), env })).rejects.toThrow(MissingDataError);
    await expect(loadCorpus({ spec: spec('tampered.abc'), env })).rejects.toThrow(/SHA-256 mismatch/);
    expect(readdirSync(path.join(dir, 'cache-bad', 'lab1-music'))).toEqual([]);
  });

  it('says where it looked when nothing is found and downloading is off', async () => {
    const env = { INTRODL_CACHE: path.join(dir, 'empty-cache') };
    await expect(loadCorpus({ env, download: false })).rejects.toThrow(/irish\.abc.*was not found/s);
  });

  it('is a clear error for a file with no songs, binary garbage or non-UTF-8 text', async () => {
    const noSongs = path.join(dir, 'nosongs.abc');
    writeFileSync(noSongs, 'X:1\nT:never ends\nK:C\nABC');
    await expect(loadCorpus({ path: noSongs })).rejects.toThrow(BadFileError);
    await expect(loadCorpus({ path: noSongs })).rejects.toThrow(/nosongs\.abc: holds no songs/);
    const binary = path.join(dir, 'garbage.abc');
    writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0xff, 0x0a, 0x0a]));
    await expect(loadCorpus({ path: binary })).rejects.toThrow(/garbage\.abc: is a binary file/);
    const latin1 = path.join(dir, 'latin1.abc');
    writeFileSync(latin1, Buffer.from([0x58, 0x3a, 0x31, 0x0a, 0xe9, 0x0a, 0x0a]));
    await expect(loadCorpus({ path: latin1 })).rejects.toThrow(/latin1\.abc: is not UTF-8 text/);
    await expect(loadCorpus({ path: path.join(dir, 'missing.abc') })).rejects.toThrow(/missing\.abc: no such file/);
  });
});
