import { BadFlagError } from '../errors.js';
import type { BackendSelection } from '../runtime/backends.js';

/**
 * How a package adds commands to the `introdl` CLI without the CLI knowing it: the package's
 * package.json names a module in `"introdl": { "commands": "./dist/commands/index.js" }` whose
 * `commands` export is a {@link CommandGroup} (or an array of them). `introdl <group> <command> …`
 * then runs it.
 */

/** One option: commander-style flags such as `--steps <n>` or `--resume`. */
export interface OptionSpec {
  flags: string;
  description: string;
  default?: string | number | boolean;
  choices?: string[];
}

/** One positional argument. */
export interface ArgumentSpec {
  name: string;
  description: string;
  required?: boolean;
  variadic?: boolean;
}

/** What every command receives from the CLI. */
export interface CommandContext {
  /** `--seed` (default 1). */
  seed: number;
  /** `--out`, the run folder to write, when given. */
  out?: string;
  /** The active backend when the command uses tfjs. */
  backend?: BackendSelection;
  /** `--debug`: show stack traces. */
  debug: boolean;
  /** Prints a line to the user (stderr for status, so stdout stays for results). */
  log: (message: string) => void;
  /** Prints a result line to stdout. */
  print: (message: string) => void;
}

/** A command: declared options and a `run` that returns an exit code (0 when omitted). */
export interface CommandSpec {
  name: string;
  description: string;
  arguments?: ArgumentSpec[];
  options?: OptionSpec[];
  /** When true the CLI adds `--backend` and activates the backend before `run`. */
  usesBackend?: boolean;
  /** When true the CLI adds `--seed` and `--out`. Default true for backend commands. */
  writesRun?: boolean;
  /** Runs when the group is called without a command name (`introdl studio` = `introdl studio serve`). */
  isDefault?: boolean;
  run(input: {
    args: string[];
    options: Record<string, unknown>;
    context: CommandContext;
  }): Promise<number | undefined>;
}

/** A package's commands, under one name: `introdl <name> …`. */
export interface CommandGroup {
  name: string;
  description: string;
  commands: CommandSpec[];
  /** Also offer each command at the top level (`introdl grade …` as well as `introdl grader grade …`). */
  topLevel?: boolean;
}

/** Reads an integer option, with a clear error for a bad value. */
export function intOption(options: Record<string, unknown>, name: string, fallback: number): number {
  const raw = options[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new BadFlagError(`--${name} must be an integer, got "${raw}"`);
  return n;
}

/** Reads a number option, with a clear error for a bad value. */
export function numberOption(options: Record<string, unknown>, name: string, fallback: number): number {
  const raw = options[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new BadFlagError(`--${name} must be a number, got "${raw}"`);
  return n;
}
