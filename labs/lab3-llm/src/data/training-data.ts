import { existsSync } from 'node:fs';
import { BadFileError, BadFlagError, type DatasetSpec } from '@introdl/core';
import { syntheticYodaPairs } from '../fixtures/synthetic-yoda.js';
import { locateLab3 } from './locate.js';
import {
  readDollyJsonl,
  readStyledLines,
  readText,
  readYodaSentences,
  type StylePair,
  styledDolly,
} from './readers.js';
import { LEPRECHAUN_TXT, YODA_SENTENCES, YODA_TXT } from './specs.js';

/** A style data set ready for training and for the three scored sets. */
export interface StyleData {
  description: string;
  /** Training examples. */
  pairs: StylePair[];
  /** Questions not trained on, for the "generated" set. */
  testQuestions: string[];
  /** Plain (unstyled) texts: the "base" set. */
  plainTexts: string[];
  /** Styled texts: the "style" set. */
  styledTexts: string[];
}

/** Options of {@link loadStyleData}. */
export interface StyleDataOptions {
  /** dolly-15k as JSON Lines; needed for `yoda` and `leprechaun` (the course pairs them with it). */
  dolly?: string;
  /** `translation` or `translation_extra` of yoda_sentences.csv. */
  column?: 'translation' | 'translation_extra';
  seed?: number;
  /** Fraction of sentence pairs held out as test questions (yoda-sentences, synthetic). */
  testFraction?: number;
}

/** Names `--data` accepts besides a path. */
export const STYLE_DATA_NAMES = ['yoda-sentences', 'yoda', 'leprechaun', 'synthetic'] as const;

async function locateFile(spec: DatasetSpec): Promise<string> {
  const found = await locateLab3(spec, `pass --data <path to ${spec.files[0].name}>`);
  return found.files[spec.files[0].name];
}

function splitPairs(pairs: StylePair[], testFraction: number, description: string): StyleData {
  const nTest = Math.max(1, Math.round(pairs.length * testFraction));
  const train = pairs.slice(0, pairs.length - nTest);
  const test = pairs.slice(pairs.length - nTest);
  return {
    description,
    pairs: train,
    testQuestions: test.map((p) => p.question),
    plainTexts: pairs.map((p) => p.question),
    styledTexts: pairs.map((p) => p.answer),
  };
}

function fromStyledLines(lines: string[], dollyPath: string | undefined, name: string): StyleData {
  if (!dollyPath) {
    throw new BadFlagError(
      `--data ${name} pairs each styled answer with a dolly-15k instruction, as the course does: pass --dolly <databricks-dolly-15k.jsonl> (or use --data yoda-sentences, which works offline)`,
    );
  }
  const dolly = readDollyJsonl(dollyPath);
  const { train, testQuestions } = styledDolly(dolly, lines);
  return {
    description: `${name}: ${train.length} dolly instructions with styled answers`,
    pairs: train,
    testQuestions,
    plainTexts: dolly.slice(0, train.length).map((r) => r.response),
    styledTexts: train.map((p) => p.answer),
  };
}

/**
 * Loads training data by name or path:
 * - `yoda-sentences`: yoda_sentences.csv (English → Yoda), found via INTRODL_DATA/lab3-llm or the cache;
 * - `yoda` / `leprechaun`: the course's styled dolly answers, with `--dolly`;
 * - `synthetic`: generated Yoda-like pairs (no files needed);
 * - a path: `.csv` (sentence pairs), `.jsonl` (question/answer or instruction/response rows) or
 *   `.txt` (styled lines, with `--dolly`).
 */
export async function loadStyleData(data: string, options: StyleDataOptions = {}): Promise<StyleData> {
  const testFraction = options.testFraction ?? 0.1;
  switch (data) {
    case 'yoda-sentences': {
      const file = await locateFile(YODA_SENTENCES);
      return splitPairs(readYodaSentences(file, options.column), testFraction, `yoda_sentences.csv (${file})`);
    }
    case 'yoda':
      return fromStyledLines(readStyledLines(await locateFile(YODA_TXT)), options.dolly, 'yoda');
    case 'leprechaun':
      return fromStyledLines(readStyledLines(await locateFile(LEPRECHAUN_TXT)), options.dolly, 'leprechaun');
    case 'synthetic':
      return splitPairs(syntheticYodaPairs(600, options.seed ?? 0), testFraction, 'synthetic Yoda-like sentence pairs');
  }
  if (!existsSync(data)) {
    throw new BadFlagError(`--data must be one of ${STYLE_DATA_NAMES.join(', ')} or an existing file, got "${data}"`);
  }
  if (data.endsWith('.csv')) return splitPairs(readYodaSentences(data, options.column), testFraction, data);
  if (data.endsWith('.txt')) return fromStyledLines(readStyledLines(data), options.dolly, data);
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
        const question = row.question ?? row.instruction;
        const answer = row.answer ?? row.response;
        if (typeof question !== 'string' || typeof answer !== 'string') {
          throw new BadFileError(data, `line ${i + 1} needs "question"/"answer" (or "instruction"/"response") strings`);
        }
        return { question, answer };
      });
    if (pairs.length < 2) throw new BadFileError(data, 'needs at least 2 examples');
    return splitPairs(pairs, testFraction, data);
  }
  throw new BadFlagError(`--data ${data}: use a .csv, .jsonl or .txt file`);
}
