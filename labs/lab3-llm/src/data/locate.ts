import { type DatasetSpec, type LocatedDataset, locateDataset, MissingDataError } from '@introdl/core';

/**
 * Finds Lab 3 files through core's lookup (INTRODL_DATA/lab3-llm, then the cache; never a download)
 * and, when they are missing, says which flag of the command gives them directly — core's generic
 * message suggests `--data <folder>`, which Lab 3's commands do not take for these files.
 */
export async function locateLab3(spec: DatasetSpec, flagHint: string): Promise<LocatedDataset> {
  try {
    return await locateDataset(spec, { download: false });
  } catch (err) {
    if (!(err instanceof MissingDataError)) throw err;
    const message = err.message
      .split('\n')
      .map((line) => (line.includes('pass --data <folder>') ? `  - ${flagHint}` : line))
      .join('\n');
    throw new MissingDataError(message, { cause: err });
  }
}
