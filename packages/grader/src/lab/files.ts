import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Converts a glob with `*` (within a folder) and `**` (any depth) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more folders; a trailing `**` matches everything below.
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** True when `rel` (a path with `/`) is `pattern`, lies inside the folder `pattern`, or matches it as a glob. */
export function matchesPath(rel: string, pattern: string): boolean {
  const p = pattern.replace(/\/+$/, '');
  if (rel === p || rel.startsWith(`${p}/`)) return true;
  return /[*?]/.test(p) && globToRegExp(p).test(rel);
}

/** Every regular file under `root/rel` (a folder or one file), as `/`-separated paths relative to root. */
export function listFiles(root: string, rel: string): string[] {
  const abs = path.join(root, rel);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return [toPosix(rel)];
  if (!st.isDirectory()) return [];
  const out: string[] = [];
  for (const entry of readdirSync(abs).sort()) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    out.push(...listFiles(root, path.join(rel, entry)));
  }
  return out;
}

/** `a\b` → `a/b`, so paths compare the same on every platform. */
export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** True for a test file name (`*.test.ts`, `*.spec.ts` and their .js/.mts twins). */
export function isTestFile(rel: string): boolean {
  return /\.(test|spec)\.[cm]?[jt]sx?$/.test(rel);
}

/** True for a TypeScript or JavaScript source file that may hold exercise regions. */
export function isSourceFile(rel: string): boolean {
  return /\.[cm]?[jt]sx?$/.test(rel) && !rel.endsWith('.d.ts');
}
