import { existsSync, readFileSync } from 'node:fs';
import { BadFileError, MissingDataError } from '@introdl/core';

/**
 * The course data's label tables (`groups.csv`, `labels.csv`): a header row, then one row per
 * photo, comma-separated, no quoting (their PROVENANCE.md files promise no commas or quotes inside
 * values). Anything else is an error naming the file and the row, not a silently shifted column.
 */

export interface CsvTable {
  file: string;
  columns: string[];
  /** Rows as column → value, with the 1-based line number they came from. */
  rows: { line: number; values: Record<string, string> }[];
}

/** Reads `file`, requiring `required` columns (matched case-insensitively, returned lower-case). */
export function readCsvTable(file: string, required: string[], what: string): CsvTable {
  if (!existsSync(file)) throw new MissingDataError(`${file}: ${what} is missing`);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/);
  const columns = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const missing = required.filter((c) => !columns.includes(c));
  if (missing.length)
    throw new BadFileError(file, `needs the columns ${required.join(',')}; it has ${columns.join(',') || 'none'}`);
  const rows: CsvTable['rows'] = [];
  lines.slice(1).forEach((text, i) => {
    if (!text.trim()) return;
    const line = i + 2;
    if (text.includes('"')) throw new BadFileError(file, `line ${line}: quoted values are not supported`);
    const cells = text.split(',').map((c) => c.trim());
    if (cells.length !== columns.length)
      throw new BadFileError(file, `line ${line} has ${cells.length} values for ${columns.length} columns`);
    rows.push({ line, values: Object.fromEntries(columns.map((c, k) => [c, cells[k]])) });
  });
  return { file, columns, rows };
}
