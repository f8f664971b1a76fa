/**
 * How far two runtimes' outputs are apart: the largest absolute difference divided by the largest
 * magnitude of the reference (so a value near zero does not blow the ratio up). This is the number
 * the export tests hold under 1e-4.
 */
export function maxRelativeDifference(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (actual.length !== reference.length) throw new Error(`lengths differ: ${actual.length} vs ${reference.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < reference.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
