import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BadFileError, type DatasetSpec, type LocateOptions, locateDataset, MissingFileError } from '@introdl/core';
import { extractSongSnippets } from './songs.js';

/** The course's public copy of the corpus (MIT License, MITDeepLearning/introtodeeplearning). */
export const IRISH_ABC_URL =
  'https://raw.githubusercontent.com/MITDeepLearning/introtodeeplearning/master/mitdeeplearning/data/irish.abc';

/**
 * irish.abc: the course's training corpus, 804 Irish folk tunes in ABC notation (197,618 bytes).
 * The SHA-256 is that of the 197,618-byte file whose extraction gives the course's 817 snippets,
 * 200,679 joined characters and 83-symbol vocabulary.
 */
export const IRISH_ABC: DatasetSpec = {
  name: 'irish.abc (MIT 6.S191 Lab 1 corpus)',
  description: '804 Irish folk tunes in ABC notation, one per blank-line-separated block',
  license: 'MIT (MIT 6.S191 Introduction to Deep Learning, with an attribution request)',
  source: 'https://github.com/MITDeepLearning/introtodeeplearning',
  dataDirName: 'lab1-music',
  files: [
    {
      name: 'irish.abc',
      url: IRISH_ABC_URL,
      sha256: 'df3782d5f7b5a2f4c66aa7c13f13008d5f48757b3f5f51620cd6c1ceb2c53023',
      bytes: 197_618,
    },
  ],
};

/** A loaded ABC corpus. */
export interface Corpus {
  /** The file read. */
  file: string;
  /** Where it was found: an explicit path, INTRODL_DATA, the cache, or a fresh download. */
  source: string;
  text: string;
  /** The song snippets, by the course's extraction rule. */
  songs: string[];
}

/** Options of {@link loadCorpus}. */
export interface LoadCorpusOptions extends Omit<LocateOptions, 'path'> {
  /** An ABC file, or a folder holding irish.abc. Without it: INTRODL_DATA, the cache, then a download. */
  path?: string;
  /** Another data set description (tests use a local server's URL). Defaults to {@link IRISH_ABC}. */
  spec?: DatasetSpec;
}

/**
 * Finds and reads the corpus, then extracts its songs.
 *
 * @throws MissingFileError / MissingDataError when it cannot be found; BadFileError when the file is
 *   not text or holds no songs.
 */
export async function loadCorpus(options: LoadCorpusOptions = {}): Promise<Corpus> {
  const spec = options.spec ?? IRISH_ABC;
  let file: string;
  let source: string;
  const explicit = options.path === undefined ? undefined : path.resolve(options.path);
  const info = explicit === undefined ? undefined : await stat(explicit).catch(() => undefined);
  if (explicit !== undefined && info === undefined) {
    throw new MissingFileError(explicit, 'Pass an ABC file or a folder holding irish.abc.');
  }
  if (explicit !== undefined && info?.isFile()) {
    file = explicit;
    source = 'explicit';
  } else {
    const found = await locateDataset(spec, { ...options, path: explicit });
    file = found.files[spec.files[0].name];
    source = found.source;
  }
  const text = decodeText(file, await readFile(file));
  const songs = extractSongSnippets(text);
  if (songs.length === 0) {
    throw new BadFileError(
      file,
      'holds no songs: a song is a block of ABC (X:, T:, M:, L:, K: lines, then the notes) followed by a blank line',
    );
  }
  return { file, source, text, songs };
}

/** The bytes as UTF-8 text, or a clear error for a binary file. Windows line ends become `\n`. */
export function decodeText(file: string, bytes: Uint8Array): string {
  if (bytes.includes(0)) throw new BadFileError(file, 'is a binary file (it holds NUL bytes), not ABC text');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new BadFileError(file, 'is not UTF-8 text, so it cannot be an ABC song file');
  }
  return text.replace(/\r\n?/g, '\n');
}
