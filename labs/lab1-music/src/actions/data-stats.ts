import { checkSong, validitySummary } from '../abc/validate.js';
import { type Corpus, loadCorpus } from '../data/dataset.js';
import { joinSongs } from '../data/songs.js';
import { groupTunes, splitSongs } from '../data/split.js';
import { Vocabulary, vectorize } from '../data/vocab.js';

/** The numbers `introdl lab1 data --stats` prints. */
export interface CorpusStats {
  corpus: Corpus;
  songs: number;
  tunes: number;
  chars: number;
  vocab: Vocabulary;
  train: number;
  heldOut: number;
  valid: number;
  example: number[];
}

/** Loads the corpus and computes the course's numbers, the held-out split and the valid share. */
export async function corpusStats(options: {
  path?: string;
  download?: boolean;
  heldOutFraction?: number;
}): Promise<CorpusStats> {
  const corpus = await loadCorpus({ path: options.path, download: options.download });
  const joined = joinSongs(corpus.songs);
  const vocab = Vocabulary.fromText(joined);
  const split = splitSongs(corpus.songs, options.heldOutFraction ?? 0.1, 0);
  const example = 'X:1\nT:Alex';
  return {
    corpus,
    songs: corpus.songs.length,
    tunes: groupTunes(corpus.songs).length,
    chars: joined.length,
    vocab,
    train: split.train.length,
    heldOut: split.heldOut.length,
    valid: validitySummary(corpus.songs.map(checkSong)).valid,
    example: vocab.unknownChars(example).length === 0 ? Array.from(vectorize(example, vocab)) : [],
  };
}

/** The stats as the lines the command prints. */
export function describeStats(s: CorpusStats): string[] {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `corpus: ${s.corpus.file} (${s.corpus.source})`,
    `${n(s.songs)} songs (${n(s.tunes)} distinct tunes)`,
    `${n(s.chars)} characters joined`,
    `${s.vocab.size} symbols: ${JSON.stringify(s.vocab.toString())}`,
    ...(s.example.length ? [`'X:1\\nT:Alex' → [${s.example.join(' ')}]`] : []),
    `held-out split (10% of tunes, seed 0): ${n(s.train)} training songs, ${n(s.heldOut)} held out`,
    `valid ABC (abcjs parses it; X, T, M, L, K; a bar; a note): ${n(s.valid)} of ${n(s.songs)}`,
    `first song:\n${s.corpus.songs[0]}`,
  ];
}
