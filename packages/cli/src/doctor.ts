import { formatDoctor, runDoctor } from '@introdl/core/commands';
import { Command } from 'commander';

/** `introdl doctor`: versions, each backend's status, data folders, what to do next. */
export function doctorCommand(setExit: (code: number) => void): Command {
  return new Command('doctor')
    .description('check backends, versions and data folders')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }) => {
      const report = await runDoctor();
      process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatDoctor(report)}\n`);
      setExit(report.ok ? 0 : 1);
    });
}
