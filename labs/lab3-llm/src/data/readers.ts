import { readFileSync } from 'node:fs';
import { BadFileError, MissingFileError } from '@introdl/core';

/** Reads a text file, with a clear error when it is missing. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new MissingFileError(path);
  }
}

/**
 * The course's styled files (yoda.txt, leprechaun.txt): one answer per line, stripped, with the
 * two characters `\n` standing for a newline (mdl.lab3.create_dataloader).
 */
export function readStyledLines(path: string): string[] {
  const lines = readText(path)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l, i, all) => l.length > 0 || i < all.length - 1);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.replaceAll('\\n', '\n'));
}

/** One row of databricks-dolly-15k. */
export interface DollyRow {
  instruction: string;
  context: string;
  /** The original (plain) answer; '' in the offline instructions-only file. */
  response: string;
  category: string;
}

/**
 * Reads dolly-15k as JSON Lines: the Hugging Face file `databricks-dolly-15k.jsonl`, or the course
 * data's `dolly-15k-instructions-first-2048.jsonl`, which has the instructions and contexts but no
 * responses (they come back as '').
 */
export function readDollyJsonl(path: string): DollyRow[] {
  const rows: DollyRow[] = [];
  readText(path)
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line);
      } catch {
        throw new BadFileError(path, `line ${i + 1} is not JSON (dolly must be JSON Lines)`);
      }
      if (typeof row !== 'object' || row === null || typeof row.instruction !== 'string') {
        throw new BadFileError(path, `line ${i + 1} lacks a string "instruction" field`);
      }
      if (row.response !== undefined && typeof row.response !== 'string') {
        throw new BadFileError(path, `line ${i + 1}: "response" must be a string`);
      }
      rows.push({
        instruction: row.instruction,
        context: typeof row.context === 'string' ? row.context : '',
        response: row.response ?? '',
        category: String(row.category ?? ''),
      });
    });
  if (rows.length === 0) throw new BadFileError(path, 'holds no rows');
  return rows;
}

/** Parses CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string, file = 'CSV'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new BadFileError(file, 'ends inside a quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** A question and its styled answer: one training example. */
export interface StylePair {
  question: string;
  answer: string;
}

/**
 * yoda_sentences.csv: English sentences and their Yoda translations, with a header
 * `sentence,translation,translation_extra` (dvgodoy/yoda_sentences). `column` picks the
 * translation (`translation_extra` adds Yoda's "Hmm" and "Yes, hrrrm"). A headerless two-column
 * file is read as (English, Yoda).
 */
export function readYodaSentences(
  path: string,
  column: 'translation' | 'translation_extra' = 'translation',
): StylePair[] {
  const rows = parseCsv(readText(path), path);
  if (rows.length === 0) throw new BadFileError(path, 'is empty');
  const header = rows[0].map((h) => h.trim());
  let source = 0;
  let target = 1;
  let body = rows;
  if (header.includes('sentence')) {
    source = header.indexOf('sentence');
    target = header.indexOf(column);
    if (target < 0) throw new BadFileError(path, `has no "${column}" column (columns: ${header.join(', ')})`);
    body = rows.slice(1);
  } else if (header.length !== 2) {
    throw new BadFileError(path, 'needs a header with "sentence" and "translation" columns, or exactly two columns');
  }
  const pairs = body
    .filter((r) => r.length > Math.max(source, target))
    .map((r) => ({ question: r[source].trim(), answer: r[target].trim() }))
    .filter((p) => p.question && p.answer);
  if (pairs.length === 0) throw new BadFileError(path, 'holds no sentence pairs');
  return pairs;
}

/**
 * The question of a dolly row. The course asks the instruction alone (its training loop reads
 * `batch["instruction"]`); `withContext` appends the row's context paragraph after a blank line, as
 * dolly's own instruction-tuning format does, for models with room for it.
 */
export function dollyQuestion(row: DollyRow, withContext = false): string {
  return withContext && row.context.trim() ? `${row.instruction}\n\n${row.context.trim()}` : row.instruction;
}

/**
 * The course's styled training set: dolly row i's instruction with line i of the styled file
 * (mdl.lab3.create_dataloader), and the test questions: dolly rows n..2n−1 (empty when the file
 * stops at n rows, as the offline instructions file does).
 */
export function styledDolly(
  dolly: DollyRow[],
  styled: string[],
  withContext = false,
): { train: StylePair[]; testQuestions: string[] } {
  const n = Math.min(styled.length, dolly.length);
  const train = styled.slice(0, n).map((answer, i) => ({ question: dollyQuestion(dolly[i], withContext), answer }));
  const testQuestions = dolly.slice(n, 2 * n).map((r) => dollyQuestion(r, withContext));
  return { train, testQuestions };
}

/**
 * Plain (unstyled) human-written passages from dolly's context paragraphs, cut at sentence ends
 * into pieces of about `targetChars`: the negative examples of the style scorer and the "base" set
 * when no plain responses are at hand (the offline instructions file has none). Wikipedia
 * citation marks such as `[3]` are dropped.
 */
export function plainPassages(rows: readonly DollyRow[], targetChars = 300): string[] {
  const out: string[] = [];
  for (const row of rows) {
    const sentences = row.context
      .replace(/\[\d+\]/g, '')
      .split(/(?<=[.!?])\s+/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    let piece = '';
    for (const sentence of sentences) {
      piece = piece ? `${piece} ${sentence}` : sentence;
      if (piece.length >= targetChars) {
        out.push(piece);
        piece = '';
      }
    }
    if (piece.length >= 40) out.push(piece);
  }
  return out;
}

/**
 * The judge prompt file: the system-prompt template (with `{style}` and the example), the Yoda
 * example text and the user template (`{text}`). Keys are found by content, so both the course's
 * 2025 and 2026 variants load; `year` prefers one when both are present.
 */
export interface JudgePromptParts {
  system: string;
  user: string;
  example?: string;
}

export function readJudgePrompt(path: string, year: '2025' | '2026' = '2026'): JudgePromptParts {
  let json: unknown;
  try {
    json = JSON.parse(readText(path));
  } catch (err) {
    if (err instanceof MissingFileError) throw err;
    throw new BadFileError(path, 'is not valid JSON');
  }
  const strings: [string, string][] = [];
  const walk = (v: unknown, key: string) => {
    if (typeof v === 'string') strings.push([key, v]);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k);
  };
  walk(json, '');
  const systems = strings.filter(([, v]) => /judge/i.test(v) && /score/i.test(v));
  const system = systems.find(([k]) => k.includes(year)) ?? systems[0];
  const user =
    strings.find(([k, v]) => v.includes('{text}') && !/judge/i.test(v) && /user/i.test(k)) ??
    strings.find(([, v]) => v.includes('{text}') && v.length < 200);
  const example = strings.find(([k]) => /example/i.test(k));
  if (!system) throw new BadFileError(path, 'has no judge system prompt (a string mentioning the judge and the score)');
  return { system: system[1], user: user?.[1] ?? 'Evaluate this text: {text}', example: example?.[1] };
}
