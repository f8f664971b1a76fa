/**
 * Entry of `.introdl/check.mjs` in a student workspace (`npm run check`): runs the public tests and
 * prints the exercise table. Bundled without dependencies, so it works with only vitest installed.
 * `--json` prints the report as JSON instead.
 */
import { formatCheck } from './format.js';
import { runCheck } from './run-check.js';

const json = process.argv.includes('--json');
try {
  const report = await runCheck(process.cwd());
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCheck(report)}\n`);
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
