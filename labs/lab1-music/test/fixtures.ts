/** Small ABC texts the tests build themselves. */

export const TUNE_A = 'X:1\nT:Alpha\nM:4/4\nL:1/8\nK:D Major\nABcd efga|b2a2 g2f2:|!';
export const TUNE_B = 'X:2\nT:Beta\nM:6/8\nL:1/8\nK:G Major\nGAB ABc|d3 d2:|!';
export const TUNE_C = 'X:3\nT:Gamma\nM:3/4\nL:1/8\nK:A Dorian\nA2 B2 c2|e4 d2|]!';

/** A corpus of n tunes in the irish.abc layout: blocks separated by blank lines, one trailing. */
export function makeCorpus(n: number): string {
  const tunes = [TUNE_A, TUNE_B, TUNE_C];
  return `${Array.from({ length: n }, (_, i) => tunes[i % 3].replace(/^X:\d+/, `X:${i + 1}`)).join('\n\n')}\n\n`;
}
