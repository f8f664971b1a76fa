import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BadFileError, MissingDataError } from '@introdl/core';
import { describe, expect, it } from 'vitest';
import { tempDir, writeJpeg } from '../../test/fixtures.js';
import { extraFaceSets, type FacePhoto, londonPhotos } from './course-data.js';
import { readCsvTable } from './csv-table.js';
import { heldOutCount, splitByPerson } from './person-split.js';

/** London-style photos: `people[g]` people in group g, two photos each (neutral _03, smiling _08). */
function londonLike(people: Record<string, number>): FacePhoto[] {
  const out: FacePhoto[] = [];
  let id = 1;
  for (const [group, n] of Object.entries(people))
    for (let k = 0; k < n; k++, id++) {
      const person = String(id).padStart(3, '0');
      for (const pose of ['03', '08'])
        out.push({
          source: 'london',
          file: `/x/${pose}/${person}_${pose}.jpg`,
          person,
          group: group as FacePhoto['group'],
          gender: group.endsWith('F') ? 'female' : 'male',
        });
    }
  return out;
}

describe('the split by person', () => {
  const photos = londonLike({ LF: 44, LM: 46, DF: 5, DM: 7 });
  const split = (seed: number, fraction = 0.3) =>
    splitByPerson(photos, { fraction, seed, stratifiedBy: 'skin × gender', stratum: (p) => p.group! });

  it('never puts one person on both sides, and holds out the same share of every group', () => {
    const s = split(1);
    const held = new Set(s.heldOut);
    expect(s.train.some((p) => held.has(p))).toBe(false);
    expect(s.train.length + s.heldOut.length).toBe(102);
    expect(s.strata).toEqual({
      DF: { train: { people: 3, photos: 6 }, heldOut: { people: 2, photos: 4 } },
      DM: { train: { people: 5, photos: 10 }, heldOut: { people: 2, photos: 4 } },
      LF: { train: { people: 31, photos: 62 }, heldOut: { people: 13, photos: 26 } },
      LM: { train: { people: 32, photos: 64 }, heldOut: { people: 14, photos: 28 } },
    });
  });

  it('depends on the seed and on nothing else (not the order of the rows)', () => {
    const a = split(1);
    const b = splitByPerson([...photos].reverse(), {
      fraction: 0.3,
      seed: 1,
      stratifiedBy: 'skin × gender',
      stratum: (p) => p.group!,
    });
    expect(b.heldOut).toEqual(a.heldOut);
    expect(split(2).heldOut).not.toEqual(a.heldOut);
  });

  it('holds out at least one person of a group with two or more, and never all of them', () => {
    expect([heldOutCount(1, 0.3), heldOutCount(2, 0.3), heldOutCount(2, 0.9), heldOutCount(10, 0.3)]).toEqual([
      0, 1, 1, 3,
    ]);
    expect(heldOutCount(10, 0)).toBe(0);
  });
});

describe('label tables', () => {
  it('reads a table and names the file and line of a ragged or quoted row', () => {
    const dir = tempDir();
    const f = path.join(dir, 't.csv');
    writeFileSync(f, 'file,person\na.jpg,1\n\nb.jpg,2\n');
    expect(readCsvTable(f, ['file', 'person'], 'x').rows.map((r) => r.values.person)).toEqual(['1', '2']);
    writeFileSync(f, 'file,person\na.jpg,1,extra\n');
    expect(() => readCsvTable(f, ['file'], 'x')).toThrow(/t\.csv.*line 2 has 3 values for 2 columns/);
    writeFileSync(f, 'file,person\n"a,b.jpg",1\n');
    expect(() => readCsvTable(f, ['file'], 'x')).toThrow(BadFileError);
    expect(() => readCsvTable(f, ['gender'], 'x')).toThrow(/needs the columns gender/);
    expect(() => readCsvTable(path.join(dir, 'none.csv'), ['file'], 'the table')).toThrow(MissingDataError);
  });

  it("takes London's person from the file name and an extra set's from its labels.csv", () => {
    const root = tempDir();
    const london = path.join(root, 'london');
    const extra = path.join(root, 'extra');
    const img = { width: 8, height: 8, data: new Uint8Array(192).fill(128) };
    for (const f of ['neutral/001_03.jpg', 'smiling/001_08.jpg', 'neutral/017_03.jpg'])
      writeJpeg(path.join(london, f), img);
    writeFileSync(
      path.join(london, 'groups.csv'),
      'file,skin,gender\nneutral/001_03.jpg,darker,female\nsmiling/001_08.jpg,darker,female\nneutral/017_03.jpg,lighter,male\n',
    );
    const photos = londonPhotos(london);
    expect(photos.map((p) => [p.person, p.group])).toEqual([
      ['001', 'DF'],
      ['001', 'DF'],
      ['017', 'LM'],
    ]);
    writeJpeg(path.join(extra, 'set-a', 'images', 'x.jpg'), img);
    writeFileSync(path.join(extra, 'set-a', 'labels.csv'), 'file,person,gender\nimages/x.jpg,P1,male\n');
    mkdirSync(path.join(extra, 'set-b'));
    expect(() => extraFaceSets(extra)).toThrow(/set-b.*labels\.csv.*the label table of the face set set-b/s);
    writeFileSync(path.join(extra, 'set-b', 'labels.csv'), 'file,person\nimages/missing.jpg,P2\n');
    expect(() => extraFaceSets(extra)).toThrow(/line 2: .*missing\.jpg does not exist/);
    writeFileSync(path.join(extra, 'set-b', 'labels.csv'), 'file,person\n');
    const sets = extraFaceSets(extra);
    expect(sets.map((s) => [s.name, s.photos.length])).toEqual([
      ['set-a', 1],
      ['set-b', 0],
    ]);
    expect(sets[0].photos[0]).toMatchObject({ source: 'extra/set-a', person: 'P1', gender: 'male' });
  });
});
