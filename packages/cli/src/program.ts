import {
  type CommandContext,
  type CommandGroup,
  type CommandSpec,
  describeSelection,
  IntrodlError,
  useBackend,
} from '@introdl/core';
import { Command, Option } from 'commander';
import { doctorCommand } from './doctor.js';

/** Options every command that trains or generates accepts. */
interface CommonOptions {
  seed?: string;
  out?: string;
  backend?: string;
  debug?: boolean;
}

/** Prints a user error without a stack trace (unless --debug) and returns the exit code. */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof IntrodlError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  process.stderr.write(debug ? `${e?.stack ?? ''}\n` : '(run again with --debug for the stack trace)\n');
  return 1;
}

function addCommand(parent: Command, spec: CommandSpec, setExit: (code: number) => void): void {
  const cmd = parent.command(spec.name, { isDefault: spec.isDefault }).description(spec.description);
  for (const a of spec.arguments ?? []) {
    const name = `${a.variadic ? `${a.name}...` : a.name}`;
    cmd.argument(a.required === false ? `[${name}]` : `<${name}>`, a.description);
  }
  for (const o of spec.options ?? []) {
    const opt = new Option(o.flags, o.description);
    if (o.default !== undefined) opt.default(o.default);
    if (o.choices) opt.choices(o.choices);
    cmd.addOption(opt);
  }
  const writesRun = spec.writesRun ?? spec.usesBackend ?? false;
  if (writesRun) {
    cmd.option('--seed <n>', 'random seed; the same seed reproduces the run', '1');
    cmd.option('--out <dir>', 'run folder to write (default runs/<lab>/<timestamp>)');
  }
  if (spec.usesBackend) cmd.option('--backend <name>', 'auto | webgpu | node | wasm | cpu', 'auto');
  cmd.option('--debug', 'show stack traces');
  cmd.action(async (...received: unknown[]) => {
    const command = received[received.length - 1] as Command;
    const options = command.opts() as Record<string, unknown> & CommonOptions;
    const args = (received.slice(0, -2) as (string | string[])[]).flat();
    const debug = Boolean(options.debug);
    try {
      const seed = Number(options.seed ?? 1);
      if (!Number.isInteger(seed)) throw new IntrodlErrorFlag(`--seed must be an integer, got "${options.seed}"`);
      const context: CommandContext = {
        seed,
        out: options.out,
        debug,
        log: (m) => process.stderr.write(`${m}\n`),
        print: (m) => process.stdout.write(`${m}\n`),
      };
      if (spec.usesBackend) {
        context.backend = await useBackend(options.backend ?? 'auto');
        context.log(describeSelection(context.backend));
      }
      setExit((await spec.run({ args, options, context })) ?? 0);
    } catch (err) {
      setExit(reportError(err, debug));
    }
  });
}

class IntrodlErrorFlag extends IntrodlError {
  override readonly exitCode = 2;
}

/** Builds the whole `introdl` program from the discovered command groups. */
export function buildProgram(groups: CommandGroup[], setExit: (code: number) => void): Command {
  const program = new Command('introdl')
    .description('MIT 6.S191 Introduction to Deep Learning labs in TypeScript: train, generate, grade')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(doctorCommand(setExit));
  for (const group of groups) {
    const g = program.command(group.name).description(group.description).exitOverride();
    for (const spec of group.commands) addCommand(g, spec, setExit);
  }
  // Top-level aliases come last so a group's own name always wins over an alias.
  const taken = new Set(program.commands.map((c) => c.name()));
  for (const group of groups.filter((g) => g.topLevel)) {
    for (const spec of group.commands) {
      if (taken.has(spec.name)) continue;
      taken.add(spec.name);
      addCommand(program, spec, setExit);
    }
  }
  return program;
}
