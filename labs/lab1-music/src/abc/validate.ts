import { audioNotes, parseTune, plainWarnings } from './abcjs.js';

/** The header fields every song needs: index, title, meter, unit note length, key. */
export const REQUIRED_HEADERS = ['X', 'T', 'M', 'L', 'K'] as const;

/** The verdict on one song. */
export interface SongCheck {
  valid: boolean;
  /** Why it is invalid (absent when valid). */
  reason?: string;
  /** The `T:` line's text, when there is one. */
  title?: string;
  /** Number of notes abcjs would play. */
  notes: number;
}

/**
 * Whether a song can be read and played, this lab's counterpart of the course's "abc2midi and
 * timidity succeed": it has the header lines X, T, M, L and K, abcjs parses it without a warning
 * (an unknown character, a bad meter, …), and it has at least one bar line and one note.
 */
export function checkSong(abc: string): SongCheck {
  const title = /^T:(.*)$/m.exec(abc)?.[1].trim();
  const fail = (reason: string, notes = 0): SongCheck => ({ valid: false, reason, title, notes });
  const missing = REQUIRED_HEADERS.filter((h) => !new RegExp(`^${h}:`, 'm').test(abc));
  if (missing.length > 0)
    return fail(`missing header line${missing.length > 1 ? 's' : ''} ${missing.map((h) => `${h}:`).join(', ')}`);
  const { tune, error } = parseTune(abc);
  if (error !== undefined) return fail(`abcjs could not parse it: ${error}`);
  if (!tune || tune.lines.length === 0) return fail('abcjs found no music after the header');
  const warnings = plainWarnings(tune);
  if (warnings.length > 0) {
    const more = warnings.length > 1 ? ` (and ${warnings.length - 1} more)` : '';
    return fail(`abcjs: ${warnings[0]}${more}`);
  }
  const hasBar = tune.lines.some((line) =>
    line.staff?.some((staff) => staff.voices?.some((voice) => voice.some((el) => el.el_type === 'bar'))),
  );
  const notes = audioNotes(tune).notes.length;
  if (!hasBar) return fail('no bar line', notes);
  if (notes === 0) return fail('no notes to play', notes);
  return { valid: true, title, notes };
}

/** How many of `checks` are valid, and that as a percentage. */
export function validitySummary(checks: readonly SongCheck[]): { valid: number; total: number; percent: number } {
  const valid = checks.filter((c) => c.valid).length;
  return { valid, total: checks.length, percent: checks.length ? (100 * valid) / checks.length : 0 };
}
