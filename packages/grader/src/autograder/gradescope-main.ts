/**
 * Entry of `run_autograder` on Gradescope: grades the one submission in /autograder/submission
 * and writes /autograder/results/results.json. Whatever happens, it writes a results.json, so a
 * broken autograder shows up as a message on Gradescope instead of a silent failure.
 *
 *   node gradescope-main.js --config config.json --submission DIR --results FILE
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomicSync } from '@introdl/core';
import { gradeBatch } from '../grade/grade-batch.js';
import { loadLab } from '../lab/load-lab.js';
import { gradescopeJson, toGradescope } from '../report/gradescope.js';
import { markdownQuote, plainText } from '../report/untrusted.js';
import type { AutograderConfig } from './autograder.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) {
    process.stderr.write(`usage: gradescope-main --config FILE --submission DIR --results FILE (missing --${name})\n`);
    process.exit(2);
  }
  return v;
}

const configFile = arg('config');
const submission = arg('submission');
const resultsFile = arg('results');
try {
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as AutograderConfig;
  // Look for the lab next to this grader (…/node_modules/@introdl/grader/dist/autograder).
  const here = path.dirname(fileURLToPath(import.meta.url));
  const lab = await loadLab(config.lab, [here, path.dirname(configFile)]);
  const { results } = await gradeBatch(lab, [submission], {
    ...(config.limits ? { limits: config.limits } : {}),
    log: (m) => process.stdout.write(`${m}\n`),
  });
  writeFileAtomicSync(resultsFile, gradescopeJson(toGradescope(results[0])));
  process.stdout.write(`wrote ${resultsFile}: ${results[0].score} / ${results[0].maxScore}\n`);
} catch (err) {
  const message = plainText((err as Error).message);
  process.stdout.write(`the autograder failed: ${plainText((err as Error).stack ?? message, 20_000)}\n`);
  const failure = {
    score: 0,
    output: `The autograder could not grade this submission. Please tell the course staff.\n\n${markdownQuote(message)}`,
    output_format: 'md',
    stdout_visibility: 'hidden',
    tests: [],
  };
  writeFileAtomicSync(resultsFile, gradescopeJson(failure));
}
process.exit(0);
