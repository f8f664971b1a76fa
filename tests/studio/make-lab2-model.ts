/**
 * Writes fixtures/lab2-classifier.int8, the Lab 2 model the studio's browser test uses: the
 * classifier of a run trained with the defaults (`introdl lab2 build-dataset`, then
 * `introdl lab2 train --model classifier`), as a compact int8 copy (0.65 MB; see
 * labs/lab2-vision/src/compact-model.ts). CI cannot afford the full training inside the test, and
 * a CI-sized model is too weak for the agreement check, so the trained model is checked in small.
 *
 *   npx tsx tests/studio/make-lab2-model.ts runs/lab2-vision/<classifier run>
 */
import path from 'node:path';
import { useBackend } from '@introdl/core';
import { writeCompactModel } from '@introdl/lab2-vision';

const run = process.argv[2];
if (!run) {
  process.stderr.write('usage: npx tsx tests/studio/make-lab2-model.ts RUN_FOLDER\n');
  process.exit(2);
}
await useBackend('wasm');
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'lab2-classifier.int8');
const bytes = await writeCompactModel(run, out);
process.stdout.write(`${out}: ${bytes} bytes\n`);
