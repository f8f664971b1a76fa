import type { DatasetSpec } from '@introdl/core';

/**
 * The Lab 3 files, found through core's lookup: an explicit path, then `$INTRODL_DATA/lab3-llm/`, then
 * the user cache. None is downloaded: the course files come from the course repository and no
 * checksum of a public copy is recorded here.
 */

const COURSE =
  'https://github.com/MITDeepLearning/introtodeeplearning (MIT License; styled text derives from CC BY-SA 3.0 dolly-15k)';

function single(name: string, description: string, license = 'MIT'): DatasetSpec {
  return { name, description, license, source: COURSE, files: [{ name }], dataDirName: 'lab3-llm' };
}

/** 2048 Yoda-style rewrites of dolly-15k responses, one per line (`\n` written literally). */
export const YODA_TXT = single('yoda.txt', 'Yoda-style rewrites of the first 2048 dolly-15k responses', 'CC BY-SA 3.0');
/** 2048 leprechaun-style rewrites of the same responses. */
export const LEPRECHAUN_TXT = single(
  'leprechaun.txt',
  'leprechaun-style rewrites of dolly-15k responses',
  'CC BY-SA 3.0',
);
/**
 * dolly-15k's instructions and contexts for rows 0–2047, in order (no responses): line i is the
 * question whose styled answer is line i of yoda.txt and leprechaun.txt.
 */
export const DOLLY_INSTRUCTIONS: DatasetSpec = {
  ...single(
    'dolly-15k-instructions-first-2048.jsonl',
    'the instructions and contexts of dolly-15k rows 0–2047 (no responses)',
    'CC BY-SA 3.0',
  ),
  source: 'https://huggingface.co/datasets/databricks/databricks-dolly-15k (rows 0–2047, responses removed)',
};
/** English sentences and their Yoda translations (columns sentence, translation, translation_extra). */
export const YODA_SENTENCES = {
  ...single('yoda_sentences.csv', 'English → Yoda sentence pairs'),
  source: 'https://huggingface.co/datasets/dvgodoy/yoda_sentences',
} satisfies DatasetSpec;
/** The competition's held-out 689-character Yoda passage. */
export const YODA_TEST_TEXT = single('yoda_test_text.txt', 'the held-out Yoda passage of the competition metric');
/** The judge's system-prompt templates, Yoda example and user template. */
export const JUDGE_PROMPT = single('judge_prompt.json', 'the course judge prompt');

/** Karpathy's 260K-parameter TinyStories model and its 512-token tokenizer (llama2.c format). */
export const STORIES_260K: DatasetSpec = {
  name: 'stories260K',
  description: "llama2.c's 260K-parameter TinyStories model (stories260K.bin) and its tokenizer (tok512.bin)",
  license: 'MIT',
  source: 'https://huggingface.co/karpathy/tinyllamas/tree/main/stories260K',
  files: [{ name: 'stories260K.bin' }, { name: 'tok512.bin' }],
  dataDirName: 'lab3-llm',
};
