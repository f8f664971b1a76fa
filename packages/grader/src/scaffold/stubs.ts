import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Lab } from '../lab/load-lab.js';
import { replaceBodies, stubBody } from '../regions/parse.js';

/**
 * The student's version of one workspace file: each region body replaced by a stub that throws
 * `TODO(<id>): <title> — <hint>`. Files without regions come back unchanged.
 */
export function stubbedSource(lab: Lab, rel: string): string {
  const text = readFileSync(path.join(lab.packageDir, rel), 'utf8');
  const regions = lab.regions.get(rel);
  if (!regions) return text;
  return replaceBodies(text, rel, new Map(regions.map((r) => [r.id, stubBody(r)])));
}

/** The solution body of every exercise, by id (what "filling the regions back in" writes). */
export function solutionBodies(lab: Lab): Map<string, string> {
  const bodies = new Map<string, string>();
  for (const regions of lab.regions.values()) for (const r of regions) bodies.set(r.id, r.body);
  return bodies;
}
