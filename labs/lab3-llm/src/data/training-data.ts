import { existsSync } from 'node:fs';
import { BadFileError, BadFlagError, type DatasetSpec, MissingDataError, Rng } from '@introdl/core';
import { syntheticYodaPairs } from '../fixtures/synthetic-yoda.js';
import { locateLab3 } from './locate.js';
import {
  type DollyRow,
  plainPassages,
  readDollyJsonl,
  readStyledLines,
  readText,
  readYodaSentences,
  type StylePair,
  styledDolly,
} from './readers.js';
import { DOLLY_INSTRUCTIONS, LEPRECHAUN_TXT, YODA_SENTENCES, YODA_TXT } from './specs.js';

/** A style data set ready for training and for the three scored sets. */
export interface StyleData {
  description: string;
  /** Training examples. */
  pairs: StylePair[];
  /**
   * Examples held out of training: the validation loss (and early stopping) is computed on them.
   * The same examples are held out whatever `--seed` is, so `score` knows which ones training never saw.
   */
  validation: StylePair[];
  /** Questions not trained on, for the "generated" set. */
  testQuestions: string[];
  /** Plain (unstyled) texts: the "base" set and the style scorer's negatives. */
  plainTexts: string[];
  /** Where {@link plainTexts} come from, for logs. */
  plainSource: string;
  /** Styled texts: the "style" set and the style scorer's positives. */
  styledTexts: string[];
}

/** Options of {@link loadStyleData}. */
export interface StyleDataOptions {
  /**
   * dolly-15k as JSON Lines, paired line by line with `yoda`, `leprechaun` or a styled `.txt`.
   * Default: the course data's `dolly-15k-instructions-first-2048.jsonl`.
   */
  dolly?: string;
  /** Append each dolly row's context to its instruction (the course asks the instruction alone). */
  withContext?: boolean;
  /**
   * False when only the styled text is needed (style-text-only training): a styled `.txt` then
   * loads without any dolly file, with empty questions.
   */
  questions?: boolean;
  /** `translation` or `translation_extra` of yoda_sentences.csv. */
  column?: 'translation' | 'translation_extra';
  /** Seeds the synthetic pairs (the held-out split does not depend on it). */
  seed?: number;
  /** Fraction of examples held out of training (at most {@link MAX_HELD_OUT}); default 0.1. */
  heldOutFraction?: number;
}

/** Names `--data` accepts besides a path. */
export const STYLE_DATA_NAMES = ['yoda', 'leprechaun', 'yoda-sentences', 'synthetic'] as const;

/** The most examples held out of training: enough for a steady validation loss, few enough to stay cheap. */
export const MAX_HELD_OUT = 100;

/** The held-out split's fixed seed: `train` and `score` must agree on it whatever their `--seed`. */
const SPLIT_SEED = 6191;

async function locateFile(spec: DatasetSpec, flag = '--data'): Promise<string> {
  const found = await locateLab3(spec, `pass ${flag} <path to ${spec.files[0].name}>`);
  return found.files[spec.files[0].name];
}

/**
 * Holds out `fraction` of the examples (1 ≤ held out ≤ {@link MAX_HELD_OUT}, at least one left to
 * train on) by a fixed seeded permutation; both parts keep the file's order.
 */
export function holdOut<T>(items: readonly T[], fraction: number): { train: T[]; heldOut: T[] } {
  if (items.length < 2) throw new Error('holding out examples needs at least 2 of them');
  const n = Math.min(items.length - 1, MAX_HELD_OUT, Math.max(1, Math.round(items.length * fraction)));
  const held = new Set(new Rng(SPLIT_SEED).permutation(items.length).subarray(0, n));
  return {
    train: items.filter((_, i) => !held.has(i)),
    heldOut: items.filter((_, i) => held.has(i)),
  };
}

function fromPairs(pairs: StylePair[], fraction: number, description: string): StyleData {
  if (pairs.length < 2) throw new BadFlagError(`${description}: needs at least 2 examples, found ${pairs.length}`);
  const { train, heldOut } = holdOut(pairs, fraction);
  return {
    description,
    pairs: train,
    validation: heldOut,
    testQuestions: heldOut.map((p) => p.question),
    plainTexts: pairs.map((p) => p.question),
    plainSource: 'the English sentences',
    styledTexts: pairs.map((p) => p.answer),
  };
}

/**
 * Plain human-written text when dolly's responses are missing: its context paragraphs (long,
 * declarative) and its instructions (short, conversational), so the style scorer does not take
 * everything short or informal for the style.
 */
function plainDollyTexts(rows: readonly DollyRow[]): string[] {
  return [...plainPassages(rows), ...rows.map((r) => r.instruction.trim()).filter(Boolean)];
}

/** The dolly rows to pair with: --dolly, else the course data's instructions file. */
async function dollyRows(dolly: string | undefined, name: string): Promise<{ rows: DollyRow[]; file: string }> {
  if (dolly) return { rows: readDollyJsonl(dolly), file: dolly };
  let file: string;
  try {
    file = await locateFile(DOLLY_INSTRUCTIONS, '--dolly');
  } catch (err) {
    if (!(err instanceof MissingDataError)) throw err;
    throw new MissingDataError(
      `--data ${name} pairs each styled answer with a dolly-15k instruction, as the course does (or train on the styled text alone: --objective style-text-only).\n${err.message}`,
      { cause: err },
    );
  }
  return { rows: readDollyJsonl(file), file };
}

async function fromStyledLines(
  lines: string[],
  name: string,
  options: StyleDataOptions,
  fraction: number,
): Promise<StyleData> {
  if (lines.length < 2) throw new BadFlagError(`--data ${name}: needs at least 2 styled lines, found ${lines.length}`);
  if (options.questions === false && !options.dolly) {
    // Style text alone: no questions, no dolly file; plain texts from dolly when it can be found.
    const pairs = lines.map((answer) => ({ question: '', answer }));
    const { train, heldOut } = holdOut(pairs, fraction);
    const plain = await dollyRows(undefined, name).then(
      ({ rows }) => plainDollyTexts(rows),
      () => [],
    );
    return {
      description: `${name}: ${lines.length} styled lines (style text only, no questions)`,
      pairs: train,
      validation: heldOut,
      testQuestions: [],
      plainTexts: plain,
      plainSource: 'dolly context paragraphs and instructions',
      styledTexts: lines,
    };
  }
  const { rows, file } = await dollyRows(options.dolly, name);
  if (rows.length < lines.length) {
    throw new BadFileError(
      file,
      `has ${rows.length} rows but ${name} has ${lines.length} styled lines: line i needs dolly row i`,
    );
  }
  const { train, testQuestions } = styledDolly(rows, lines, options.withContext);
  const { train: trainPairs, heldOut } = holdOut(train, fraction);
  const responses = rows.slice(0, lines.length).map((r) => r.response.trim());
  const haveResponses = responses.filter(Boolean).length >= lines.length / 2;
  return {
    description: `${name}: ${train.length} dolly instructions (${file}) with styled answers${options.withContext ? ', contexts appended' : ''}`,
    pairs: trainPairs,
    validation: heldOut,
    // The course's test questions are dolly rows n..2n−1; a file that stops at n rows (the offline
    // one) has none, so the held-out questions, never trained on, stand in.
    testQuestions: testQuestions.length ? testQuestions : heldOut.map((p) => p.question),
    plainTexts: haveResponses ? responses.filter(Boolean) : plainDollyTexts(rows),
    plainSource: haveResponses
      ? "dolly's plain responses"
      : 'dolly context paragraphs and instructions (the file has no responses)',
    styledTexts: lines,
  };
}

/**
 * Loads training data by name or path:
 * - `yoda` / `leprechaun`: the course's styled dolly answers, each paired with its dolly instruction
 *   (from `--dolly`, else the course data's `dolly-15k-instructions-first-2048.jsonl`);
 * - `yoda-sentences`: yoda_sentences.csv (English → Yoda);
 * - `synthetic`: generated Yoda-like pairs (no files needed);
 * - a path: `.csv` (sentence pairs), `.jsonl` (question/answer or instruction/response rows) or
 *   `.txt` (styled lines, paired with dolly as `yoda` is).
 * Files are found through INTRODL_DATA/lab3-llm or the user cache.
 */
export async function loadStyleData(data: string, options: StyleDataOptions = {}): Promise<StyleData> {
  const fraction = options.heldOutFraction ?? 0.1;
  switch (data) {
    case 'yoda-sentences': {
      const file = await locateFile(YODA_SENTENCES);
      return fromPairs(readYodaSentences(file, options.column), fraction, `yoda_sentences.csv (${file})`);
    }
    case 'yoda':
      return fromStyledLines(readStyledLines(await locateFile(YODA_TXT)), 'yoda', options, fraction);
    case 'leprechaun':
      return fromStyledLines(readStyledLines(await locateFile(LEPRECHAUN_TXT)), 'leprechaun', options, fraction);
    case 'synthetic':
      return fromPairs(syntheticYodaPairs(600, options.seed ?? 0), fraction, 'synthetic Yoda-like sentence pairs');
  }
  if (!existsSync(data)) {
    throw new BadFlagError(`--data must be one of ${STYLE_DATA_NAMES.join(', ')} or an existing file, got "${data}"`);
  }
  if (data.endsWith('.csv')) return fromPairs(readYodaSentences(data, options.column), fraction, data);
  if (data.endsWith('.txt')) return fromStyledLines(readStyledLines(data), data, options, fraction);
  if (data.endsWith('.jsonl')) {
    const pairs = readText(data)
      .split('\n')
      .filter((l) => l.trim())
      .map((line, i) => {
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(line);
        } catch {
          throw new BadFileError(data, `line ${i + 1} is not JSON`);
        }
        const question = row?.question ?? row?.instruction;
        const answer = row?.answer ?? row?.response;
        if (typeof question !== 'string' || typeof answer !== 'string') {
          throw new BadFileError(data, `line ${i + 1} needs "question"/"answer" (or "instruction"/"response") strings`);
        }
        return { question, answer };
      });
    if (pairs.length < 2) throw new BadFileError(data, 'needs at least 2 examples');
    return fromPairs(pairs, fraction, data);
  }
  throw new BadFlagError(`--data ${data}: use a .csv, .jsonl or .txt file`);
}
