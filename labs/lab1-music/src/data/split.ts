import { Rng } from '@introdl/core';

/** The songs on each side of a held-out split, each list in corpus order. */
export interface SongSplit {
  train: string[];
  heldOut: string[];
}

/**
 * Groups snippets into whole tunes. Two quirks of the course's extraction are undone here:
 * - a blank line inside a tune splits it, so a snippet that does not begin with an `X:` line
 *   continues the tune before it;
 * - where three newlines precede a tune, overlapped matching yields it twice, as `"\nX:…"` and
 *   `"X:…"` (irish.abc has 12 such pairs: its 817 snippets hold 803 tunes), so a snippet equal to the
 *   previous one without its leading newlines is the same tune.
 */
export function groupTunes(songs: readonly string[]): number[][] {
  const groups: number[][] = [];
  let previousKey: string | undefined;
  songs.forEach((song, i) => {
    const key = song.replace(/^\n+/, '');
    const sameAsPrevious = key === previousKey;
    const startsTune = /^X:/.test(key);
    if (groups.length === 0 || (startsTune && !sameAsPrevious)) groups.push([i]);
    else groups[groups.length - 1].push(i);
    previousKey = key;
  });
  return groups;
}

/**
 * A held-out split of whole tunes, which the course lacks: a seeded `fraction` of the tunes (at
 * least one when there are two or more) is kept out of training to measure the loss on music the
 * model has not seen. The same seed always picks the same tunes.
 */
export function splitSongs(songs: readonly string[], fraction = 0.1, seed = 0): SongSplit {
  if (!(fraction >= 0 && fraction < 1)) throw new Error(`held-out fraction must be in [0, 1), got ${fraction}`);
  const groups = groupTunes(songs);
  let count = Math.round(groups.length * fraction);
  if (fraction > 0 && count === 0 && groups.length >= 2) count = 1;
  const heldOutGroups = new Set(new Rng(seed).permutation(groups.length).subarray(0, count));
  const heldOut = new Set(groups.flatMap((g, i) => (heldOutGroups.has(i) ? g : [])));
  return {
    train: songs.filter((_, i) => !heldOut.has(i)),
    heldOut: songs.filter((_, i) => heldOut.has(i)),
  };
}
