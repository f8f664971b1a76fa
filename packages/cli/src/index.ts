/**
 * The `introdl` command line. Use {@link main} to run it in-process (tests do).
 * @packageDocumentation
 */
import { CommanderError } from 'commander';
import { loadCommandGroups } from './discover.js';
import { buildProgram } from './program.js';

export { findCommandPackages, loadCommandGroups } from './discover.js';
export { buildProgram, reportError } from './program.js';

/** Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const groups = await loadCommandGroups((m) => process.stderr.write(`warning: ${m}\n`));
  const program = buildProgram(groups, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes exit 2.
      return err.exitCode === 0 ? 0 : 2;
    }
    throw err;
  }
  return exitCode;
}
