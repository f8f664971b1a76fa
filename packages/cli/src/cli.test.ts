import { BadFileError, type CommandGroup } from '@introdl/core';
import { describe, expect, it, vi } from 'vitest';
import { findCommandPackages } from './discover.js';
import { main } from './index.js';
import { buildProgram, reportError } from './program.js';

describe('discovery', () => {
  it('finds the command modules that installed @introdl packages declare', () => {
    const found = findCommandPackages();
    const core = found.find((p) => p.name === '@introdl/core');
    expect(core?.module).toMatch(/core[/\\]dist[/\\]commands[/\\]index\.js$/);
    // the CLI itself declares none
    expect(found.some((p) => p.name === 'introdl')).toBe(false);
  });
});

describe('the program', () => {
  // A group the way a lab declares one: the CLI must wire its options and arguments without knowing it.
  const seen: Record<string, unknown>[] = [];
  const group: CommandGroup = {
    name: 'toy',
    description: 'a toy group',
    commands: [
      {
        name: 'echo',
        description: 'echo back',
        arguments: [{ name: 'words', description: 'words', variadic: true, required: false }],
        options: [{ flags: '--times <n>', description: 'repeat', default: '1' }],
        writesRun: true,
        async run({ args, options, context }) {
          seen.push({ args, options, seed: context.seed, out: context.out });
          return 3;
        },
      },
      {
        name: 'fail',
        description: 'fails with a user error',
        async run() {
          throw new BadFileError('songs.abc', 'has no songs');
        },
      },
    ],
  };

  it('passes arguments, options, seed and out to a group command and returns its exit code', async () => {
    let code = -1;
    const program = buildProgram([group], (c) => {
      code = c;
    });
    await program.parseAsync(['toy', 'echo', 'a', 'b', '--times', '2', '--seed', '9', '--out', 'x'], { from: 'user' });
    expect(code).toBe(3);
    expect(seen[0]).toMatchObject({ args: ['a', 'b'], options: { times: '2' }, seed: 9, out: 'x' });
  });

  it('turns a user error into one line and its exit code', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code = -1;
    await buildProgram([group], (c) => {
      code = c;
    }).parseAsync(['toy', 'fail'], { from: 'user' });
    const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
    stderr.mockRestore();
    expect(code).toBe(1);
    expect(printed).toBe('error: songs.abc: has no songs\n');
  });

  it('says where the stack is for unexpected errors', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(reportError(new Error('boom'), false)).toBe(1);
    const printed = stderr.mock.calls.map((c) => String(c[0])).join('');
    stderr.mockRestore();
    expect(printed).toMatch(/error: boom\n\(run again with --debug/);
  });

  it('exits 2 on a usage mistake and 0 on --help', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['no-such-command'])).toBe(2);
    expect(await main(['--help'])).toBe(0);
    out.mockRestore();
    err.mockRestore();
  });
});

describe('top-level aliases', () => {
  it('offers the commands of a topLevel group at the top too, without shadowing a group', async () => {
    const ran: string[] = [];
    const mk = (name: string) => ({
      name,
      description: name,
      async run() {
        ran.push(name);
        return 0;
      },
    });
    const groups: CommandGroup[] = [
      { name: 'grader', description: 'grading', topLevel: true, commands: [mk('grade'), mk('core')] },
      { name: 'core', description: 'the core', commands: [mk('demo')] },
    ];
    const program = buildProgram(groups, () => {});
    await program.parseAsync(['grade'], { from: 'user' });
    await program.parseAsync(['grader', 'grade'], { from: 'user' });
    expect(ran).toEqual(['grade', 'grade']);
    // `core` stays the core group, not the grader's alias
    expect(program.commands.filter((c) => c.name() === 'core')).toHaveLength(1);
  });
});
