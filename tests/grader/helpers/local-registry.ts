import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';

/**
 * A read-only npm registry on 127.0.0.1 that serves the packages already installed in this
 * repository's node_modules, so that a test can run a real `npm install` (as Gradescope's
 * setup.sh does) with neither the network nor the npm cache: a fresh CI machine has an empty
 * cache, and nothing may depend on what an earlier install left there.
 *
 * It serves the dependency closure of the given package folders: each dependency is resolved the
 * way Node finds it (the nearest node_modules upwards), packed with `tar` into `package/…`, and
 * described in a packument with its sha512 integrity. Workspace links (our own packages) are not
 * served: the test installs those from the tarballs `npm pack` made.
 */
export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  url: string;
  /** Packages (name@version) it serves. */
  packages: string[];
  /** Names npm asked for that it does not have (optional ones: other platforms' binaries, say). */
  misses: Set<string>;
  /** Of {@link misses}, those some served package requires (not optional): a real gap. */
  requiredMisses(): string[];
  close(): Promise<void>;
}

interface Served {
  manifest: Record<string, unknown>;
  tarball: Buffer;
}

/** Where `name` is installed for a package in `fromDir`, as Node resolves it; undefined if nowhere. */
function installedDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Orders `1.2.10` after `1.2.9` (release versions; enough for `latest`). */
function byVersion(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map(Number);
  const pb = b.split(/[.+-]/).map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] || 0) - (pb[i] || 0);
  return 0;
}

/** `tar` of a package folder as npm lays it out (`package/…`), without its own node_modules. */
function packFolder(dir: string, scratch: string): Buffer {
  const file = path.join(scratch, `${createHash('sha1').update(dir).digest('hex')}.tgz`);
  execFileSync('tar', [
    '-czf',
    file,
    '-C',
    dir,
    '--exclude=./node_modules',
    '--owner=0',
    '--group=0',
    '--transform',
    's,^\\.,package,',
    '.',
  ]);
  return readFileSync(file);
}

/**
 * Starts the registry for the closure of `roots` (package folders) plus `extra` package names
 * resolved from `resolveFrom`.
 */
export async function startLocalRegistry(
  roots: string[],
  extra: string[] = [],
  resolveFrom = process.cwd(),
): Promise<LocalRegistry> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'introdl-registry-'));
  const byName = new Map<string, Map<string, Served>>();
  const seen = new Set<string>();
  const queue: string[] = [...roots];
  for (const name of extra) {
    const dir = installedDir(name, resolveFrom);
    if (dir) queue.push(dir);
  }
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;

  const isRoot = (dir: string) => roots.includes(dir);
  const required = new Set<string>();
  while (queue.length) {
    const dir = queue.shift() as string;
    const real = realpathSync(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const deps = {
      ...(pkg.dependencies as Record<string, string> | undefined),
      ...(pkg.optionalDependencies as Record<string, string> | undefined),
      ...(pkg.peerDependencies as Record<string, string> | undefined),
    };
    const optional = new Set([
      ...Object.keys((pkg.optionalDependencies as object | undefined) ?? {}),
      ...Object.entries((pkg.peerDependenciesMeta as Record<string, { optional?: boolean }> | undefined) ?? {})
        .filter(([, m]) => m.optional)
        .map(([n]) => n),
    ]);
    for (const name of Object.keys(deps)) if (!optional.has(name)) required.add(name);
    for (const name of Object.keys(deps)) {
      const found = installedDir(name, real);
      // Our own workspace packages are links; the test brings them as tarballs.
      if (found && !lstatSync(found).isSymbolicLink()) queue.push(found);
    }
    if (isRoot(dir) || lstatSync(dir).isSymbolicLink()) continue;
    const name = pkg.name as string;
    const version = pkg.version as string;
    const tarball = packFolder(real, scratch);
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    const { devDependencies: _dev, scripts: _scripts, ...manifest } = pkg;
    manifest.dist = {
      tarball: `${url}-/${encodeURIComponent(name)}/${version}.tgz`,
      integrity,
      shasum: createHash('sha1').update(tarball).digest('hex'),
    };
    if (!byName.has(name)) byName.set(name, new Map());
    byName.get(name)?.set(version, { manifest, tarball });
  }

  const misses = new Set<string>();
  server.on('request', (req, res) => {
    const parts = (req.url ?? '/').split('?')[0].slice(1);
    const tar = /^-\/([^/]+)\/([^/]+)\.tgz$/.exec(parts);
    if (tar) {
      const served = byName.get(decodeURIComponent(tar[1]))?.get(tar[2]);
      if (!served) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': served.tarball.length });
      res.end(served.tarball);
      return;
    }
    const name = decodeURIComponent(parts);
    const versions = byName.get(name);
    if (!versions) {
      misses.add(name);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    const sorted = [...versions.keys()].sort(byVersion);
    const body = JSON.stringify({
      name,
      'dist-tags': { latest: sorted[sorted.length - 1] },
      versions: Object.fromEntries([...versions].map(([v, s]) => [v, s.manifest])),
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });

  return {
    url,
    packages: [...byName].flatMap(([n, vs]) => [...vs.keys()].map((v) => `${n}@${v}`)),
    misses,
    requiredMisses: () => [...misses].filter((n) => required.has(n)),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
