import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Lab } from '../lab/load-lab.js';
import { replaceBodies } from '../regions/parse.js';

/**
 * Writes `bodies` (by exercise id) into the regions of a workspace made by `scaffold`: what a
 * student does by hand. `fillWorkspace(dir, lab, solutionBodies(lab))` puts the solution back.
 */
export function fillWorkspace(dir: string, lab: Lab, bodies: ReadonlyMap<string, string>): void {
  for (const rel of lab.regions.keys()) {
    const file = path.join(dir, rel);
    writeFileSync(file, replaceBodies(readFileSync(file, 'utf8'), file, bodies));
  }
}
