/**
 * The course's song extraction (`mdl.lab1.extract_song_snippet`): the regex `(^|\n\n)(.*?)\n\n`
 * with DOTALL and *overlapped* matching, keeping the second group. A snippet therefore runs from
 * the start of the text or a blank line to the next blank line, and the last song counts only when
 * a blank line follows it. On irish.abc this gives 817 snippets (a few tunes hold blank lines).
 */

/**
 * Every song snippet of `text`, in order, by the course's rule.
 *
 * Overlapped matching means a match may start inside the previous one's closing `\n\n`; trying a
 * match at every candidate start (the text's start and each `\n\n`) and taking the shortest body
 * up to the next `\n\n` is exactly that. A `\n\n` at position 0 is not a start of its own: there
 * the `^` alternative matches first, and overlapped matching yields one match per position.
 */
export function extractSongSnippets(text: string): string[] {
  const songs: string[] = [];
  const starts: number[] = [0];
  for (let i = text.indexOf('\n\n', 1); i !== -1; i = text.indexOf('\n\n', i + 1)) starts.push(i + 2);
  for (const start of starts) {
    const end = text.indexOf('\n\n', start);
    if (end === -1) break;
    songs.push(text.slice(start, end));
  }
  return songs;
}

/** The training text: every song joined by a blank line, as the course's `"\n\n".join(songs)`. */
export function joinSongs(songs: readonly string[]): string {
  return songs.join('\n\n');
}
