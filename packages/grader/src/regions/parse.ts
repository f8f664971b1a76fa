import { BadFileError } from '@introdl/core';
import { todoMessage } from './todo.js';

/**
 * Exercise regions in a lab's solution source:
 *
 * ```ts
 * // @exercise lab1.2.1 "Implement getBatch"
 * // hint: draw batchSize random starts in [0, n - seqLength)
 * ...solution code...
 * // @end
 * ```
 *
 * The header and the hint (a `// hint:` line, any case, and the comment lines right after it)
 * stay in the student's copy; the lines between them and `// @end` (the body) are what the
 * student writes. Regions do not nest.
 */
export interface Region {
  /** Exercise id, such as `lab1.2.1`. */
  id: string;
  /** Short title from the header. */
  title: string;
  /** The hint lines joined by spaces ('' when none). */
  hint: string;
  /** 0-based index of the `// @exercise` line. */
  headerLine: number;
  /** 0-based index of the first body line (after the header and hint lines). */
  bodyStart: number;
  /** 0-based index of the `// @end` line; the body is lines [bodyStart, endLine). */
  endLine: number;
  /** Leading whitespace of the header, used to indent the stub. */
  indent: string;
  /** The body text (lines joined with '\n'; '' when empty). */
  body: string;
}

const HEADER = /^(\s*)\/\/\s*@exercise\s+([A-Za-z0-9][\w.-]*)\s+"([^"]+)"\s*$/;
const HEADER_LOOSE = /^\s*\/\/\s*@exercise\b/;
const HINT = /^\s*\/\/\s*hint:\s?(.*)$/i;
/** A plain `//` comment line (continues a hint); not a marker. */
const COMMENT = /^\s*\/\/(?!\s*@)\s?(.*)$/;
const END = /^\s*\/\/\s*@end\s*$/;

/** Splits text into lines, remembering whether it used CRLF so it can be written back alike. */
export function splitLines(text: string): { lines: string[]; eol: string } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return { lines: text.split(/\r?\n/), eol };
}

/**
 * Finds every exercise region in one source file. Throws a {@link BadFileError} naming the file
 * and line for a malformed header, a nested region, an `@end` without a header, or a missing `@end`.
 */
export function parseRegions(text: string, file: string): Region[] {
  const { lines } = splitLines(text);
  const regions: Region[] = [];
  let open: Omit<Region, 'endLine' | 'body'> | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (HEADER_LOOSE.test(line)) {
      const m = HEADER.exec(line);
      if (!m) {
        throw new BadFileError(file, `line ${i + 1}: malformed exercise header; write // @exercise <id> "<title>"`);
      }
      if (open) {
        throw new BadFileError(file, `line ${i + 1}: exercise ${m[2]} starts inside ${open.id}; close it with // @end`);
      }
      // The hint: a `// hint:` line right after the header, and the comment lines that follow it.
      const hints: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const h = (hints.length === 0 ? HINT : COMMENT).exec(lines[j]);
        if (!h) break;
        hints.push(HINT.exec(lines[j])?.[1].trim() ?? h[1].trim());
      }
      open = { id: m[2], title: m[3], hint: hints.join(' '), headerLine: i, bodyStart: j, indent: m[1] };
      i = j - 1;
    } else if (END.test(line)) {
      if (!open) throw new BadFileError(file, `line ${i + 1}: // @end without an // @exercise before it`);
      regions.push({ ...open, endLine: i, body: lines.slice(open.bodyStart, i).join('\n') });
      open = undefined;
    }
  }
  if (open) throw new BadFileError(file, `line ${open.headerLine + 1}: exercise ${open.id} has no // @end`);
  return regions;
}

/** Replaces the body of each region named in `bodies` (by id); other regions are left as they are. */
export function replaceBodies(text: string, file: string, bodies: ReadonlyMap<string, string>): string {
  const { lines, eol } = splitLines(text);
  const regions = parseRegions(text, file);
  // Work from the last region up so earlier line numbers stay valid.
  for (const r of [...regions].reverse()) {
    const body = bodies.get(r.id);
    if (body === undefined) continue;
    const bodyLines = body === '' ? [] : body.split(/\r?\n/);
    lines.splice(r.bodyStart, r.endLine - r.bodyStart, ...bodyLines);
  }
  return lines.join(eol);
}

/** The stub body for a region: one line that throws the TODO error, indented like the header. */
export function stubBody(region: Region): string {
  const literal = todoMessage(region).replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  return `${region.indent}throw new Error('${literal}');`;
}
