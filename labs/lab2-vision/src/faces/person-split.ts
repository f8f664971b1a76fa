import { Rng } from '@introdl/core';
import type { FacePhoto } from './course-data.js';

/**
 * A seeded split of a face set by person, stratified: within each stratum (London: skin group ×
 * gender) the same fraction of people is held out, at least one where the stratum has two or more
 * people. Photos follow their person, so one person's neutral and smiling photos (near duplicates)
 * never sit on both sides. The split depends only on the people, the strata, the fraction and the
 * seed, not on the order of the rows or on anything else the build draws.
 */

export interface StratumCounts {
  train: { people: number; photos: number };
  heldOut: { people: number; photos: number };
}

export interface PersonSplit {
  seed: number;
  /** Share of each stratum's people held out. */
  fraction: number;
  /** What the strata are (e.g. "skin × gender"). */
  stratifiedBy: string;
  /** Person ids (within their source), sorted. */
  train: string[];
  heldOut: string[];
  strata: Record<string, StratumCounts>;
}

/** How many of `n` people a stratum holds out: the rounded fraction, at least 1 and at most n − 1 when n ≥ 2. */
export function heldOutCount(n: number, fraction: number): number {
  if (n < 2 || fraction <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(fraction * n)));
}

/** Splits `photos` by person; `stratum` names each photo's stratum (a person's first photo decides). */
export function splitByPerson(
  photos: FacePhoto[],
  options: { fraction: number; seed: number; stratifiedBy: string; stratum: (p: FacePhoto) => string },
): PersonSplit {
  const byPerson = new Map<string, FacePhoto[]>();
  for (const p of [...photos].sort((a, b) => a.file.localeCompare(b.file))) {
    const list = byPerson.get(p.person) ?? [];
    list.push(p);
    byPerson.set(p.person, list);
  }
  const strata = new Map<string, string[]>();
  for (const [person, list] of byPerson) {
    const s = options.stratum(list[0]);
    strata.set(s, [...(strata.get(s) ?? []), person]);
  }
  const rng = new Rng(options.seed);
  const heldOut = new Set<string>();
  const counts: Record<string, StratumCounts> = {};
  for (const s of [...strata.keys()].sort()) {
    const people = strata.get(s)!.sort();
    const order = rng.permutation(people.length);
    const k = heldOutCount(people.length, options.fraction);
    const out = new Set(Array.from(order.subarray(0, k), (i) => people[i]));
    for (const p of out) heldOut.add(p);
    const photosOf = (ps: string[]) => ps.reduce((a, p) => a + byPerson.get(p)!.length, 0);
    const trainPeople = people.filter((p) => !out.has(p));
    counts[s] = {
      train: { people: trainPeople.length, photos: photosOf(trainPeople) },
      heldOut: { people: out.size, photos: photosOf([...out]) },
    };
  }
  const all = [...byPerson.keys()].sort();
  return {
    seed: options.seed,
    fraction: options.fraction,
    stratifiedBy: options.stratifiedBy,
    train: all.filter((p) => !heldOut.has(p)),
    heldOut: all.filter((p) => heldOut.has(p)),
    strata: counts,
  };
}
