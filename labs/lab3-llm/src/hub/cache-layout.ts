import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '@introdl/core';

/**
 * The hub cache layout huggingface_hub writes and reads (file_download.py), one folder per repo:
 *
 *   <cache>/models--<org>--<name>/
 *     refs/<revision>                  the commit hash a branch or tag pointed at when last resolved
 *     blobs/<etag>                     file contents, named by git SHA-1 (small files) or SHA-256 (LFS)
 *     blobs/<etag>.incomplete          a download in progress (resumed with an HTTP Range request)
 *     snapshots/<commit>/<filename>    relative symlinks into ../../blobs (copies where symlinks fail)
 *   <cache>/.locks/models--<org>--<name>/<etag>.lock
 *
 * Files fetched by Python tools are found here and reused, and the other way round.
 */

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** `models--org--name`: a repo's folder name in the cache. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/** Paths of one repo in a cache. */
export class RepoCache {
  readonly root: string;
  readonly locks: string;

  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    this.root = path.join(cacheDir, repoFolderName(repoId));
    this.locks = path.join(cacheDir, '.locks', repoFolderName(repoId));
  }

  blob(etag: string): string {
    return path.join(this.root, 'blobs', etag);
  }

  snapshot(commit: string): string {
    return path.join(this.root, 'snapshots', commit);
  }

  pointer(commit: string, filename: string): string {
    return path.join(this.snapshot(commit), ...filename.split('/'));
  }

  /** The commit a revision resolves to from the cache alone: itself when it is a hash, else refs/<revision>. */
  commitOf(revision: string): string | undefined {
    if (COMMIT_HASH.test(revision)) return revision;
    const ref = path.join(this.root, 'refs', ...revision.split('/'));
    if (!existsSync(ref)) return undefined;
    const commit = readFileSync(ref, 'utf8').trim();
    return COMMIT_HASH.test(commit) ? commit : undefined;
  }

  /** Records that `revision` points at `commit` (not for commit hashes themselves). */
  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    const ref = path.join(this.root, 'refs', ...revision.split('/'));
    mkdirSync(path.dirname(ref), { recursive: true });
    if (existsSync(ref) && readFileSync(ref, 'utf8').trim() === commit) return;
    writeFileAtomicSync(ref, commit);
  }

  /**
   * Points snapshots/<commit>/<filename> at blobs/<etag> with a relative symlink (huggingface_hub's
   * `_create_symlink`), or copies the blob where the file system has no symlinks.
   */
  link(commit: string, filename: string, etag: string): string {
    const pointer = this.pointer(commit, filename);
    mkdirSync(path.dirname(pointer), { recursive: true });
    rmSync(pointer, { force: true });
    const target = path.relative(path.dirname(pointer), this.blob(etag));
    try {
      symlinkSync(target, pointer);
    } catch {
      copyFileSync(this.blob(etag), pointer);
    }
    return pointer;
  }
}
