import { describe, expect, it } from 'vitest';
import { checkSong, validitySummary } from '../src/abc/validate.js';
import { TUNE_A, TUNE_B, TUNE_C } from './fixtures.js';

describe('checkSong', () => {
  it('accepts well-formed tunes and reads their title', () => {
    for (const tune of [TUNE_A, TUNE_B, TUNE_C]) expect(checkSong(tune).valid).toBe(true);
    const check = checkSong(TUNE_A);
    expect(check.title).toBe('Alpha');
    expect(check.notes).toBe(24); // 12 notes, repeated
  });

  it('names missing header lines', () => {
    const check = checkSong('X:1\nT:No meter\nK:D\nABcd|]');
    expect(check).toMatchObject({ valid: false, reason: 'missing header lines M:, L:' });
  });

  it('passes on an abcjs warning as the reason, in plain text', () => {
    const check = checkSong('X:1\nT:Bad\nM:4/4\nL:1/8\nK:D\nAB ^^^ cd|]');
    expect(check.valid).toBe(false);
    expect(check.reason).toMatch(/^abcjs: .*Unknown character ignored/);
    expect(check.reason).not.toMatch(/<span/);
    expect(checkSong('X:1\nT:m\nM:x/8\nL:1/8\nK:D\nAB|]').reason).toMatch(/^abcjs: .*meter/);
  });

  it('needs music after the header, with a bar line and a note', () => {
    expect(checkSong('X:1\nT:h\nM:4/4\nL:1/8\nK:D').reason).toBe('abcjs found no music after the header');
    expect(checkSong('X:1\nT:h\nM:4/4\nL:1/8\nK:D\nABcd efga').reason).toBe('no bar line');
    expect(checkSong('X:1\nT:h\nM:4/4\nL:1/8\nK:D\nz4 z4|]').reason).toBe('no notes to play');
  });

  it('summarises the share of valid songs', () => {
    const checks = [TUNE_A, 'X:1\nT:x', TUNE_B, 'garbage'].map(checkSong);
    expect(validitySummary(checks)).toEqual({ valid: 2, total: 4, percent: 50 });
    expect(validitySummary([])).toEqual({ valid: 0, total: 0, percent: 0 });
  });
});
