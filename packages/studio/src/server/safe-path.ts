import { realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Maps a URL path to a file inside `root`, or `undefined` when it would leave `root`. The path is
 * percent-decoded first (so `..%2f` counts as `../`), NUL bytes and backslashes are refused, and
 * symbolic links are followed before the final check, so a link in the runs folder cannot point out.
 */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined; // malformed %-escape
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  if (decoded.split('/').some((part) => part === '..')) return undefined;
  const base = path.resolve(root);
  const candidate = path.resolve(base, `.${path.posix.normalize(`/${decoded}`)}`);
  if (!isInside(base, candidate)) return undefined;
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    return candidate; // does not exist: the caller answers 404
  }
  let realBase: string;
  try {
    realBase = realpathSync(base);
  } catch {
    return undefined;
  }
  return isInside(realBase, real) ? real : undefined;
}

/** True when `child` is `parent` or below it. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
