/**
 * Text that comes from a submission (exception messages, values it returned, what it printed,
 * file names inside its zip) is shown to TAs and students as text, never as markup or terminal
 * commands. Two steps, at two depths:
 *
 * 1. {@link plainText} when a result is assembled: control characters other than newline and tab
 *    (terminal escapes, OSC 8 hyperlinks, carriage returns that overwrite a line), bidirectional
 *    overrides and invisible characters are written out as `\x1b`-style escapes, and the length is
 *    bounded. Everything downstream (terminal, CSV, JSON, Markdown) then holds only printable text.
 * 2. {@link markdownLiteral} / {@link markdownQuote} where the text goes into Markdown: HTML is
 *    escaped and every Markdown punctuation character is backslash-escaped, and the text sits in a
 *    block quote, so it can neither become HTML, a link or an image, nor pose as a row, a heading
 *    or a list item of the report.
 */

/** The most characters of one untrusted message (a test's failure message or detail). */
export const MAX_MESSAGE_CHARS = 2000;
/** The most characters of what a submission printed (stdout and stderr each). */
export const MAX_PRINTED_CHARS = 10_000;
/** Appended where text was cut. */
export const TRUNCATED = '… (truncated)';

// C0 and C1 controls except \t and \n, DEL, bidirectional marks/overrides/isolates, zero-width
// characters, the Unicode line/paragraph separators and the byte-order mark.
const UNSAFE_RANGES: [number, number][] = [
  [0x00, 0x08],
  [0x0b, 0x1f],
  [0x7f, 0x9f],
  [0x061c, 0x061c],
  [0x200b, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2069],
  [0xfeff, 0xfeff],
];
const unsafe = (code: number) => UNSAFE_RANGES.some(([lo, hi]) => code >= lo && code <= hi);

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Untrusted text made printable and bounded: `\r\n` becomes `\n`; every other control character,
 * bidirectional control and invisible character is replaced by its escape (`\x1b`, `\u202e`);
 * lone surrogates become U+FFFD; the result has at most `max` characters plus {@link TRUNCATED}.
 */
export function plainText(text: string, max = MAX_MESSAGE_CHARS): string {
  const s = text.replace(/\r\n/g, '\n').replace(LONE_SURROGATE, '\ufffd');
  let out = '';
  for (const c of s) {
    const code = c.codePointAt(0) ?? 0;
    const piece = unsafe(code) ? escapeChar(code) : c;
    if (out.length + piece.length > max) return `${out}${TRUNCATED}`;
    out += piece;
  }
  return out;
}

/**
 * Escapes text for Markdown (CommonMark and GitHub's dialect) so that it renders as exactly these
 * characters: `&`, `<`, `>` as HTML entities, every other ASCII punctuation character with a
 * backslash (which CommonMark allows for all of them). Apply {@link plainText} first.
 */
export function markdownLiteral(text: string): string {
  return text.replace(/[&<>]|[!-/:-@[-`{-~]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : `\\${c}`,
  );
}

/** Untrusted text as a Markdown block quote, line by line (see {@link markdownLiteral}). */
export function markdownQuote(text: string): string {
  const lines = text.replace(/\n+$/, '').split('\n');
  // Leading spaces would make an indented code block inside the quote: keep them visible instead.
  return lines
    .map((l) => (l.trim() ? `> ${markdownLiteral(l).replace(/^ +/, (s) => '&nbsp;'.repeat(s.length))}` : '>'))
    .join('\n');
}

/** Untrusted text as one table cell or one line: newlines become ` ⏎ `, then {@link markdownLiteral}. */
export function markdownCell(text: string): string {
  return markdownLiteral(text.replace(/\n/g, ' ⏎ '));
}
