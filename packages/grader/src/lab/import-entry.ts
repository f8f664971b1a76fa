import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MissingFileError } from '@introdl/core';
import { build } from 'esbuild';

/** The parts of a package.json the grader reads. */
export interface PackageJson {
  name: string;
  version?: string;
  main?: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
}

/** The file a package's `import('<name>')` loads: exports['.'] (import/default), then main, then index.js. */
export function entryOf(packageDir: string, pkg: PackageJson): string {
  const dot = (pkg.exports as Record<string, unknown> | undefined)?.['.'] ?? pkg.exports;
  let rel: string | undefined;
  if (typeof dot === 'string') rel = dot;
  else if (dot && typeof dot === 'object') {
    const d = dot as Record<string, unknown>;
    rel = [d.import, d.default].find((v): v is string => typeof v === 'string');
  }
  return path.resolve(packageDir, rel ?? pkg.main ?? 'index.js');
}

/**
 * Imports a lab package's entry module. A built entry (JavaScript) is imported as is. A TypeScript
 * entry (a lab in development, or a fixture) is bundled by esbuild first, with its package imports
 * resolved from the lab's folder, so `import { x } from '@introdl/core'` still finds the same copy.
 */
export async function importEntry(packageDir: string, pkg: PackageJson): Promise<Record<string, unknown>> {
  let entry = entryOf(packageDir, pkg);
  if (!existsSync(entry)) {
    const ts = path.join(packageDir, 'src', 'index.ts');
    if (!existsSync(ts)) {
      throw new MissingFileError(entry, `build the lab first: npm run build -w ${pkg.name}`);
    }
    entry = ts;
  }
  return importModuleFile(entry, packageDir);
}

/**
 * Imports a module file. JavaScript is imported as is; TypeScript is bundled by esbuild into a
 * temporary file first, with package imports resolved from `resolveDir` (so they find the same
 * copies the lab itself would load).
 */
export async function importModuleFile(file: string, resolveDir: string): Promise<Record<string, unknown>> {
  if (!/\.[cm]?tsx?$/.test(file)) return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const out = mkdtempSync(path.join(os.tmpdir(), 'introdl-rubric-'));
  try {
    const outfile = path.join(out, 'entry.mjs');
    const req = createRequire(path.join(resolveDir, 'package.json'));
    await build({
      entryPoints: [file],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      plugins: [
        {
          name: 'packages-from-lab',
          setup(b) {
            // Bare imports stay imports, but of the absolute file the lab itself would load.
            b.onResolve({ filter: /^[^./]/ }, (args) => {
              if (isBuiltin(args.path)) return { path: args.path, external: true };
              return { path: pathToFileURL(req.resolve(args.path)).href, external: true };
            });
          },
        },
      ],
    });
    return (await import(pathToFileURL(outfile).href)) as Record<string, unknown>;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
