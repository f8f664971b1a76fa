import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Lab } from '../lab/load-lab.js';
import { MANIFEST_FILE, type WorkspaceManifest } from '../workspace/manifest.js';

const require = createRequire(import.meta.url);

/** The installed version of a tool (`^x.y.z`), or `fallback` when it is not installed here. */
function versionOf(name: string, fallback: string): string {
  try {
    const file = require.resolve(`${name}/package.json`);
    return `^${(JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version}`;
  } catch {
    return fallback;
  }
}

/** Where the workspace gets `@introdl/core` from. */
export type CoreSource =
  /** A tarball made by `npm pack` inside the workspace (`vendor/`): the workspace needs no unpublished package. */
  | { kind: 'tarball'; file: string }
  /** The public registry, at this version range. */
  | { kind: 'registry'; range: string };

/** The workspace's package.json: the lab's dependencies, with `@introdl/core` from `core`. */
export function workspacePackageJson(lab: Lab, core: CoreSource): string {
  const deps: Record<string, string> = {};
  for (const [name, range] of Object.entries(lab.packageJson.dependencies ?? {})) {
    if (!name.startsWith('@introdl/')) deps[name] = range;
  }
  deps['@introdl/core'] = core.kind === 'tarball' ? `file:${core.file}` : core.range;
  const pkg = {
    name: `introdl-${lab.name}-workspace`,
    version: '0.1.0',
    private: true,
    description: `${lab.rubric.title}: your workspace. Fill in each TODO, then run npm run check.`,
    type: 'module',
    scripts: {
      check: 'node .introdl/check.mjs',
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
    },
    dependencies: sortKeys(deps),
    devDependencies: {
      '@types/node': versionOf('@types/node', '^20.19.0'),
      typescript: versionOf('typescript', '~5.9.3'),
      vitest: versionOf('vitest', '^4.1.12'),
    },
    engines: { node: '>=20.19' },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

/** A standalone tsconfig (the monorepo's base settings, no project references). */
export function workspaceTsconfig(): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2023', 'DOM'],
      strict: true,
      noImplicitOverride: true,
      esModuleInterop: true,
      skipLibCheck: true,
      resolveJsonModule: true,
      isolatedModules: true,
      verbatimModuleSyntax: true,
      noEmit: true,
      types: ['node'],
    },
    include: ['src'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** vitest config that runs exactly the public tests. */
export function workspaceVitestConfig(publicTests: string[]): string {
  return `import { defineConfig } from 'vitest/config';

// The public tests of this lab. \`npm run check\` runs them and prints which exercises are done.
export default defineConfig({
  test: {
    include: ${JSON.stringify(publicTests)},
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
`;
}

/** The manifest `check` reads. */
export function workspaceManifest(lab: Lab): string {
  const manifest: WorkspaceManifest = {
    lab: lab.name,
    title: lab.rubric.title,
    format: 1,
    exercises: lab.exercises.map((e) => {
      const tests = lab.rubric.publicTestNames?.[e.id];
      return { id: e.id, title: e.title, hint: e.hint, file: e.file, ...(tests ? { tests } : {}) };
    }),
    publicTests: lab.rubric.publicTests,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The workspace README: how to install, work, check and hand in. */
export function workspaceReadme(lab: Lab, hasHandout: boolean, vendored: boolean): string {
  const rows = lab.exercises.map((e) => `| ${e.id} | ${e.title} | \`${e.file}\` |`).join('\n');
  return `# ${lab.rubric.title}: your workspace

This folder is a complete, runnable copy of the lab with the exercises left for you.${
    hasHandout ? ' Read HANDOUT.md first.' : ''
  }
Each exercise is a region in the source between \`// @exercise <id> "<title>"\` and \`// @end\`;
it throws \`TODO(<id>)\` until you replace that line with your code. Everything else already works.

## Start

\`\`\`sh
npm install${vendored ? '      # @introdl/core comes from vendor/, the rest from the npm registry' : ''}
npm run check    # which exercises are done, failing (with the first failed assertion) or not started
\`\`\`

\`npm test\` runs the same public tests with vitest's full output; \`npm run typecheck\` runs tsc.

## Exercises

| id | exercise | file |
| --- | --- | --- |
${rows}

## Hand in

Zip the \`src\` folder (or the whole workspace without \`node_modules\`) and upload it. Only the
code inside the exercise regions is graded: keep the \`// @exercise\` and \`// @end\` lines, and
write helpers inside the region. The grader also runs hidden tests, so test more than the public
tests do.
`;
}

/** Files `scaffold` writes besides the lab's sources. */
export const WORKSPACE_GITIGNORE = 'node_modules/\ndist/\n.introdl/last-check.json\n';

/** True when the lab's handout exists. */
export function handoutPath(lab: Lab): string | undefined {
  if (!lab.rubric.handout) return undefined;
  const p = path.join(lab.packageDir, lab.rubric.handout);
  return existsSync(p) ? p : undefined;
}

export { MANIFEST_FILE };
