import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CommandGroup } from '@introdl/core';

/**
 * Finds the command groups of installed introdl packages: every `@introdl/*` package whose
 * package.json has `"introdl": { "commands": "<module>" }`. The CLI has no list of labs: a new lab
 * package that declares its commands this way appears in `introdl --help` once installed.
 */

interface Manifest {
  name: string;
  introdl?: { commands?: string };
}

/** Every `node_modules/@introdl` folder from `start` up to the file-system root. */
function scopeDirs(start: string): string[] {
  const dirs: string[] = [];
  let dir = start;
  for (;;) {
    const scope = path.join(dir, 'node_modules', '@introdl');
    if (existsSync(scope)) dirs.push(scope);
    const parent = path.dirname(dir);
    if (parent === dir) return dirs;
    dir = parent;
  }
}

/** Package folders that declare commands, first found wins for a name. */
export function findCommandPackages(
  starts: string[] = [path.dirname(fileURLToPath(import.meta.url)), process.cwd()],
): { name: string; module: string }[] {
  const found = new Map<string, string>();
  for (const start of starts) {
    for (const scope of scopeDirs(start)) {
      for (const entry of readdirSync(scope)) {
        const pkgDir = path.join(scope, entry);
        const manifestPath = path.join(pkgDir, 'package.json');
        if (!existsSync(manifestPath)) continue;
        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
        const rel = manifest.introdl?.commands;
        if (rel && !found.has(manifest.name)) found.set(manifest.name, path.resolve(pkgDir, rel));
      }
    }
  }
  return [...found].map(([name, module]) => ({ name, module }));
}

/** Imports each package's `commands` export. A package that fails to load is reported, not fatal. */
export async function loadCommandGroups(warn: (m: string) => void = () => {}): Promise<CommandGroup[]> {
  const groups: CommandGroup[] = [];
  for (const { name, module } of findCommandPackages()) {
    if (!existsSync(module)) {
      warn(`${name}: its commands module ${module} is missing (build it with \`npm run build\`)`);
      continue;
    }
    try {
      // A package may declare one group or several (the grader adds `scaffold`, `check`, `grade`, …).
      const mod = (await import(pathToFileURL(module).href)) as { commands?: CommandGroup | CommandGroup[] };
      if (Array.isArray(mod.commands)) groups.push(...mod.commands);
      else if (mod.commands) groups.push(mod.commands);
      else warn(`${name}: ${module} has no \`commands\` export`);
    } catch (err) {
      warn(`${name}: its commands failed to load (${(err as Error).message})`);
    }
  }
  return groups.sort((a, b) => a.name.localeCompare(b.name));
}
