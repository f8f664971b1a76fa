import { Rng } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import { checkSong } from '../src/abc/validate.js';
import { getBatch } from '../src/data/batches.js';
import { IRISH_ABC, loadCorpus } from '../src/data/dataset.js';
import { joinSongs } from '../src/data/songs.js';
import { groupTunes, splitSongs } from '../src/data/split.js';
import { Vocabulary, vectorize } from '../src/data/vocab.js';

/** The real irish.abc, found the way the CLI finds it (INTRODL_DATA, then the cache); no download. */
const real = await loadCorpus({ download: false }).catch(() => undefined);
const reason = `${IRISH_ABC.files[0].name} not found under $INTRODL_DATA/lab1-music or the user cache`;

describe.skipIf(!real)(`the course corpus (${real ? real.file : reason})`, () => {
  it('has 817 songs, 200,679 joined characters and 83 symbols', () => {
    const joined = joinSongs(real!.songs);
    expect(real!.songs).toHaveLength(817);
    expect(joined).toHaveLength(200_679);
    const vocab = Vocabulary.fromText(joined);
    expect(vocab.size).toBe(83);
    expect(vocab.chars[0]).toBe('\n');
    expect(vocab.chars[1]).toBe(' ');
    expect(vocab.chars[82]).toBe('|');
  });

  it("vectorizes 'X:1\\nT:Alex' as the course shows", () => {
    const vocab = Vocabulary.fromText(joinSongs(real!.songs));
    expect(Array.from(vectorize('X:1\nT:Alex', vocab))).toEqual([49, 22, 13, 0, 45, 22, 26, 67, 60, 79]);
  });

  it("starts with Alexander's and passes the batch checks at the course sizes", () => {
    expect(real!.songs[0].startsWith("X:1\nT:Alexander's\nZ: id:dc-hornpipe-1\nM:C|\nL:1/8\nK:D Major\n")).toBe(true);
    const joined = joinSongs(real!.songs);
    const vec = vectorize(joined, Vocabulary.fromText(joined));
    expect(vec.length).toBe(200_679);
    const b = getBatch(vec, 100, 32, new Rng(0));
    expect(b.x.length).toBe(3200);
    for (let r = 0; r < 32; r++) {
      expect(Array.from(b.x.subarray(r * 100 + 1, r * 100 + 100))).toEqual(
        Array.from(b.y.subarray(r * 100, r * 100 + 99)),
      );
    }
  });

  it('holds out 80 of the 803 tunes the rule keeps (no tune on both sides), and almost every song is valid ABC', () => {
    // 804 X: lines; the last tune has no blank line after it, so the course rule drops it.
    expect(groupTunes(real!.songs)).toHaveLength(803);
    const { train, heldOut } = splitSongs(real!.songs, 0.1, 0);
    expect(train.length + heldOut.length).toBe(817);
    const tuneKey = (s: string) => s.replace(/^\n+/, '');
    const heldOutTunes = new Set(heldOut.filter((s) => /^\n*X:/.test(s)).map(tuneKey));
    expect(heldOutTunes.size).toBe(80);
    expect(train.some((s) => heldOutTunes.has(tuneKey(s)))).toBe(false);
    const checks = real!.songs.map(checkSong);
    const valid = checks.filter((c) => c.valid).length;
    expect(valid).toBeGreaterThanOrEqual(800);
  });
});
