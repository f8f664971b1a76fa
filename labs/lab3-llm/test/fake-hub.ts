import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Hugging Face hub on 127.0.0.1 that answers as the real one does (huggingface_hub's
 * file_download.py and hf_api.py are written against these answers):
 * - `GET /api/models/<org>/<name>/revision/<rev>` → `{ id, sha, siblings: [{ rfilename }], gated }`;
 * - `HEAD|GET /<org>/<name>/resolve/<rev>/<file>`: small (git) files answer 200 with `ETag` = the git
 *   blob SHA-1 and `X-Repo-Commit`; LFS files (*.safetensors) answer 302 to a CDN on another origin,
 *   with `X-Linked-Etag` = their SHA-256, `X-Linked-Size` and `X-Repo-Commit`;
 * - errors carry `X-Error-Code`: RepoNotFound (401), RevisionNotFound / EntryNotFound (404), GatedRepo
 *   (401 without a token, 403 with a token that has no access);
 * - a renamed repository answers 307 with a relative Location.
 * The CDN honours Range requests (206). Faults can be switched on per file: a body cut short, bytes
 * that do not match the advertised hash.
 */

export interface FakeRepo {
  id: string;
  commit: string;
  files: Map<string, Buffer>;
  /** Needs `Authorization: Bearer <token>` with this token. */
  gatedToken?: string;
  /** Other tags that resolve to the commit. */
  tags?: string[];
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

export const gitSha1 = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const isLfs = (file: string) => file.endsWith('.safetensors');

export class FakeHub {
  readonly repos = new Map<string, FakeRepo>();
  /** old id → new id (a renamed repository). */
  readonly renamed = new Map<string, string>();
  readonly log: LoggedRequest[] = [];
  /** Files whose next CDN GET stops after this many bytes (then the fault is cleared). */
  readonly truncateOnce = new Map<string, number>();
  /** Files the CDN serves with one byte changed (same size, other hash). */
  readonly corrupt = new Set<string>();
  private hub?: Server;
  private cdn?: Server;
  endpoint = '';
  private cdnOrigin = '';
  /** CDN path → [repo, file]. */
  private readonly blobs = new Map<string, [FakeRepo, string]>();

  add(repo: FakeRepo): void {
    this.repos.set(repo.id, repo);
    for (const [name, data] of repo.files) if (isLfs(name)) this.blobs.set(`/repos/${sha256(data)}`, [repo, name]);
  }

  async start(): Promise<string> {
    this.hub = createServer((req, res) => this.onHub(req, res));
    this.cdn = createServer((req, res) => this.onCdn(req, res));
    const listen = (s: Server) =>
      new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
    this.endpoint = `http://127.0.0.1:${await listen(this.hub)}`;
    this.cdnOrigin = `http://127.0.0.1:${await listen(this.cdn)}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [this.hub, this.cdn].map((s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()))),
    );
  }

  /** Requests that fetched file bytes (CDN GETs, and GETs of small files on the hub). */
  downloads(): LoggedRequest[] {
    return this.log.filter((r) => r.method === 'GET' && (r.server === 'cdn' || r.url.includes('/resolve/')));
  }

  private record(server: 'hub' | 'cdn', req: IncomingMessage) {
    this.log.push({
      server,
      method: req.method ?? '',
      url: req.url ?? '',
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
  }

  private static error(res: ServerResponse, status: number, code: string, message: string) {
    res.writeHead(status, { 'X-Error-Code': code, 'X-Error-Message': message, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: message }));
  }

  private commitFor(repo: FakeRepo, rev: string): string | undefined {
    return rev === 'main' || rev === repo.commit || repo.tags?.includes(rev) ? repo.commit : undefined;
  }

  private onHub(req: IncomingMessage, res: ServerResponse) {
    this.record('hub', req);
    const url = new URL(req.url ?? '/', 'http://x');
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const id = decodeURIComponent((api ?? resolve)?.[1] ?? '');
    const renamed = this.renamed.get(id);
    if (renamed) {
      res.writeHead(307, { Location: url.pathname.replace(id, renamed) });
      res.end();
      return;
    }
    const repo = this.repos.get(id);
    if (!repo || !(api || resolve)) {
      FakeHub.error(res, 401, 'RepoNotFound', 'Repository not found');
      return;
    }
    const rev = decodeURIComponent((api ?? resolve)![2]);
    const commit = this.commitFor(repo, rev);
    if (!commit) {
      FakeHub.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return;
    }
    if (api) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          id: repo.id,
          modelId: repo.id,
          sha: commit,
          gated: repo.gatedToken ? 'manual' : false,
          siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
        }),
      );
      return;
    }
    if (repo.gatedToken) {
      const auth = req.headers.authorization;
      if (auth !== `Bearer ${repo.gatedToken}`) {
        FakeHub.error(
          res,
          auth ? 403 : 401,
          'GatedRepo',
          `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        );
        return;
      }
    }
    const file = decodeURIComponent(resolve![3]);
    const data = repo.files.get(file);
    if (!data) {
      FakeHub.error(res, 404, 'EntryNotFound', `${file} does not exist on "${rev}"`);
      return;
    }
    if (isLfs(file)) {
      res.writeHead(302, {
        Location: `${this.cdnOrigin}/repos/${sha256(data)}`,
        'X-Linked-Etag': `"${sha256(data)}"`,
        'X-Linked-Size': String(data.length),
        'X-Repo-Commit': commit,
        ETag: `"${gitSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(data)}\n`))}"`,
        'Content-Length': '0',
      });
      res.end();
      return;
    }
    res.writeHead(200, {
      ETag: `"${gitSha1(data)}"`,
      'X-Repo-Commit': commit,
      'Content-Length': String(data.length),
      'Content-Type': 'application/octet-stream',
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  }

  private onCdn(req: IncomingMessage, res: ServerResponse) {
    this.record('cdn', req);
    const entry = this.blobs.get(req.url ?? '');
    if (!entry) {
      res.writeHead(404);
      res.end();
      return;
    }
    const [repo, file] = entry;
    let data = repo.files.get(file)!;
    if (this.corrupt.has(file)) {
      data = Buffer.from(data);
      data[data.length >> 1] ^= 0xff;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}`,
        'Content-Length': String(data.length - start),
      });
    } else {
      res.writeHead(200, { 'Content-Length': String(data.length) });
    }
    const body = data.subarray(start);
    const cut = this.truncateOnce.get(file);
    if (cut !== undefined) {
      this.truncateOnce.delete(file);
      // Send part of the body, let the client take it in, then drop the connection as a flaky
      // network would (closing at once can make fetch discard the chunk it has not handed out yet).
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 150));
      return;
    }
    res.end(body);
  }
}
