import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build, transform } from 'esbuild';
import type { Lab } from '../lab/load-lab.js';
import { replaceBodies } from '../regions/parse.js';
import { stubbedSource } from '../scaffold/stubs.js';

/** The lab's sources with the student's region bodies in place, by absolute path. */
export interface Spliced {
  files: Map<string, string>;
  /** Exercises whose body could not be used (a syntax error), with the reason. */
  problems: Map<string, string>;
}

/**
 * Puts the student's bodies into the lab's files. Every region starts as its stub; each body is
 * then tried alone, and kept only if the file still parses, so one syntax error costs only that
 * exercise. Code outside the regions is always the lab's own.
 */
export async function splice(lab: Lab, bodies: ReadonlyMap<string, string>): Promise<Spliced> {
  const files = new Map<string, string>();
  const problems = new Map<string, string>();
  for (const [rel, regions] of lab.regions) {
    let text = stubbedSource(lab, rel);
    for (const r of regions) {
      const body = bodies.get(r.id);
      if (body === undefined) continue;
      const candidate = replaceBodies(text, rel, new Map([[r.id, body]]));
      const error = await syntaxError(candidate, rel);
      if (error) problems.set(r.id, `your code for ${r.id} does not parse: ${error}`);
      else text = candidate;
    }
    files.set(path.join(lab.packageDir, rel), text);
  }
  return { files, problems };
}

/** The lab's own sources (the reference solution), by absolute path. */
export function referenceFiles(lab: Lab): Map<string, string> {
  const files = new Map<string, string>();
  for (const rel of lab.regions.keys()) {
    const abs = path.join(lab.packageDir, rel);
    files.set(abs, readFileSync(abs, 'utf8'));
  }
  return files;
}

async function syntaxError(text: string, file: string): Promise<string | undefined> {
  try {
    await transform(text, { loader: file.endsWith('x') ? 'tsx' : 'ts', sourcefile: file, logLevel: 'silent' });
    return undefined;
  } catch (err) {
    const e = (err as { errors?: { text: string; location?: { line: number } }[] }).errors?.[0];
    return e ? `${e.text}${e.location ? ` (${file}:${e.location.line})` : ''}` : (err as Error).message;
  }
}

/** The bundle could not be built. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/**
 * Bundles the lab's probes module with `files` standing in for the lab's exercise files, into one
 * ES module at `outfile`. Package imports stay imports (the child resolves them from the shared
 * node_modules); everything of the lab is inlined, so the child needs no access to the lab folder.
 */
export async function bundleProbes(lab: Lab, files: ReadonlyMap<string, string>, outfile: string): Promise<void> {
  try {
    await build({
      entryPoints: [path.join(lab.packageDir, lab.rubric.probes)],
      outfile,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [
        {
          name: 'spliced-sources',
          setup(b) {
            b.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, (args) => {
              const contents = files.get(args.path);
              return contents === undefined ? undefined : { contents, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
            });
          },
        },
      ],
    });
  } catch (err) {
    const e = (err as { errors?: { text: string; location?: { file: string; line: number } }[] }).errors?.[0];
    const where = e?.location ? ` (${e.location.file}:${e.location.line})` : '';
    throw new BundleError(e ? `${e.text}${where}` : (err as Error).message);
  }
}
