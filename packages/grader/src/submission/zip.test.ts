import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeZip } from '../../../../tests/grader/helpers/zip-writer.js';
import { extractZip, formatBytes, UnsafeZipError, unsafeName } from './zip.js';

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'introdl-zip-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const zipFile = (entries: Parameters<typeof makeZip>[0]) => {
  const file = path.join(tmp(), 'sub.zip');
  writeFileSync(file, makeZip(entries));
  return file;
};

describe('extractZip', () => {
  it('extracts the wanted entries, skips node_modules and the rest', async () => {
    const dest = tmp();
    const file = zipFile([
      { name: 'w/src/a.ts', data: 'export const a = 1;', deflate: true },
      { name: 'w/README.md', data: 'hi' },
      { name: 'w/node_modules/.bin/x', data: '/etc/passwd', mode: 0o120777 },
    ]);
    expect(await extractZip(file, dest, (n) => n.endsWith('.ts'))).toEqual(['w/src/a.ts']);
    expect(readFileSync(path.join(dest, 'w/src/a.ts'), 'utf8')).toBe('export const a = 1;');
    expect(existsSync(path.join(dest, 'w/README.md'))).toBe(false);
  });

  it('refuses too many entries before reading any', async () => {
    const file = zipFile(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.ts`, data: 'x' })));
    await expect(
      extractZip(file, tmp(), () => true, { maxEntries: 5, maxTotalBytes: 1e6, maxFileBytes: 1e6 }),
    ).rejects.toThrow('it declares 6 entries (limit 5)');
  });

  it('refuses a file that is not a zip', async () => {
    const file = path.join(tmp(), 'x.zip');
    writeFileSync(file, 'not a zip at all');
    await expect(extractZip(file, tmp(), () => true)).rejects.toBeInstanceOf(UnsafeZipError);
  });

  it('unsafe names', () => {
    expect(unsafeName('a/../../b')).toBe('climbs out of the folder with ".."');
    expect(unsafeName('/etc/x')).toBe('is an absolute path');
    expect(unsafeName('C:/x')).toBe('is an absolute path');
    expect(unsafeName('a\\b')).toBe('has a backslash');
    expect(unsafeName('a/b..c/d')).toBeUndefined();
    expect(formatBytes(10 * 1024 ** 3)).toBe('10.0 GB');
  });
});
