import path from 'node:path';
import { writeFileAtomicSync } from '../fs/atomic.js';
import type { EncodeOptions, OnnxGraph } from './graph.js';

/**
 * Encodes `graph` and writes it to `file` atomically; with `externalData` the large weights go to
 * `<file>_data` beside it (transformers.js' and ONNX's convention), written first so a reader never
 * finds a model whose data is missing. Returns the bytes written.
 */
export function writeOnnxModel(
  file: string,
  graph: OnnxGraph,
  options: Omit<EncodeOptions, 'externalData'> & { externalData?: boolean; threshold?: number } = {},
): { model: number; externalData?: number } {
  const dataFile = `${path.basename(file)}_data`;
  const encoded = graph.encode({
    ...options,
    externalData: options.externalData ? { file: dataFile, threshold: options.threshold } : undefined,
  });
  if (encoded.externalData) writeFileAtomicSync(path.join(path.dirname(file), dataFile), encoded.externalData);
  writeFileAtomicSync(file, encoded.model);
  return { model: encoded.model.byteLength, externalData: encoded.externalData?.byteLength };
}
