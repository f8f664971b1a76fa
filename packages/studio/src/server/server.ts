import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError } from './http-errors.js';
import type { LabFeatures } from './lab-contract.js';
import { chatRoute, detectRoute } from './lab-routes.js';
import { type LoadedLabs, loadLabs } from './labs.js';
import { streamLog } from './log-stream.js';
import { listRuns, readRun } from './runs-index.js';
import { resolveInside } from './safe-path.js';
import { sendFile } from './send-file.js';

/** Options of {@link startStudio}. */
export interface StudioOptions {
  /** The runs folder to show (the CLI's `runs/`). */
  runsDir: string;
  /** Port; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind; default 127.0.0.1 so only this machine can connect. */
  host?: string;
  /** The built web app; default this package's `dist/app`. */
  appDir?: string;
  /** Largest upload (an image to detect faces in), in bytes; default 16 MiB. */
  maxUploadBytes?: number;
  /** Lab features to use instead of (or before) what the labs export. */
  labs?: Partial<LabFeatures>;
}

/** A running studio. */
export interface Studio {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** The built app shipped with this package (from src/server or dist/server alike). */
export const DEFAULT_APP_DIR = fileURLToPath(new URL('../../dist/app/', import.meta.url));

// Everything the page loads comes from this server; nothing may reach the network.
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function notBuilt(res: ServerResponse, appDir: string): void {
  res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`The studio app is not built (${appDir} has no index.html): run \`npm run build -w @introdl/studio\`.\n`);
}

/** Starts the studio's HTTP server and resolves once it listens. */
export async function startStudio(options: StudioOptions): Promise<Studio> {
  const runsDir = path.resolve(options.runsDir);
  const appDir = path.resolve(options.appDir ?? DEFAULT_APP_DIR);
  const host = options.host ?? '127.0.0.1';
  const limit = options.maxUploadBytes ?? 16 * 1024 * 1024;
  let labs: Promise<LoadedLabs> | undefined;
  const getLabs = () => {
    labs ??= loadLabs(options.labs);
    return labs;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A page on another site must not reach this server through a name that resolves to 127.0.0.1.
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (LOOPBACK.has(host) && !LOOPBACK.has(hostname))
      throw new HttpError(403, `unexpected Host "${req.headers.host}"`);
    const url = new URL(req.url ?? '/', 'http://studio.invalid');
    const pathname = url.pathname;
    const method = req.method ?? 'GET';

    if (pathname.startsWith('/api/')) {
      if (method === 'POST') {
        const origin = req.headers.origin;
        if (origin && !LOOPBACK.has(new URL(origin).hostname)) throw new HttpError(403, 'cross-origin request refused');
        if (pathname === '/api/lab2/detect') return detectRoute(req, res, url, await getLabs(), runsDir, limit);
        if (pathname === '/api/lab3/chat') return chatRoute(req, res, await getLabs(), runsDir);
        throw new HttpError(404, `no such endpoint ${pathname}`);
      }
      if (method !== 'GET') throw new HttpError(405, `${method} is not allowed here`);
      if (pathname === '/api/status') {
        const l = await getLabs();
        return json(res, 200, { runsDir, views: l.views, features: l.status });
      }
      if (pathname === '/api/runs') return json(res, 200, { runs: listRuns(runsDir) });
      const m = /^\/api\/runs\/([^/]+)\/([^/]+)(\/log)?$/.exec(pathname);
      if (m) {
        const run = readRun(runsDir, decodeURIComponent(m[1]), decodeURIComponent(m[2]));
        if (!run) throw new HttpError(404, `no run ${m[1]}/${m[2]} in ${runsDir}`);
        if (!m[3]) return json(res, 200, run);
        const dir = path.join(runsDir, run.lab, run.name);
        return streamLog(req, res, { log: path.join(dir, 'log.jsonl'), runJson: path.join(dir, 'run.json') });
      }
      throw new HttpError(404, `no such endpoint ${pathname}`);
    }

    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not allowed here`);
    if (pathname.startsWith('/runs/')) {
      const file = resolveInside(runsDir, pathname.slice('/runs/'.length));
      if (!file) throw new HttpError(403, 'that path is outside the runs folder');
      if (!sendFile(req, res, file, { 'cache-control': 'no-cache' })) throw new HttpError(404, `no file ${pathname}`);
      return;
    }
    if (!existsSync(path.join(appDir, 'index.html'))) return notBuilt(res, appDir);
    const file = resolveInside(appDir, pathname === '/' ? 'index.html' : pathname.slice(1));
    if (!file) throw new HttpError(403, 'that path is outside the app');
    const headers: Record<string, string> = { 'content-security-policy': CSP };
    // Hashed bundles never change; everything else is checked each time.
    headers['cache-control'] = pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    if (!sendFile(req, res, file, headers)) throw new HttpError(404, `no file ${pathname}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
      res.end(JSON.stringify({ error: message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
