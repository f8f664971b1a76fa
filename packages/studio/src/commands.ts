import path from 'node:path';
import { BadFlagError, type CommandGroup, intOption } from '@introdl/core';
import { openBrowser } from './server/open-browser.js';
import { startStudio } from './server/server.js';

/**
 * `introdl studio serve [--port N] [--host H] [--no-open] [--runs DIR]`: the lab studio over a
 * runs folder, until Ctrl-C. (`introdl studio` alone will run it once the CLI supports a default
 * command in a group; see the README.)
 */
export const commands: CommandGroup = {
  name: 'studio',
  description: 'the lab studio: a local web app to hear, see and talk to what the labs made',
  commands: [
    {
      name: 'serve',
      isDefault: true,
      description: 'serve the studio on 127.0.0.1 and print its URL',
      options: [
        { flags: '--port <n>', description: 'port to listen on (0 picks a free one)', default: '0' },
        {
          flags: '--host <address>',
          description: 'address to bind (other machines can connect unless loopback)',
          default: '127.0.0.1',
        },
        { flags: '--runs <dir>', description: 'runs folder to show (default $INTRODL_RUNS or ./runs)' },
        { flags: '--no-open', description: 'do not open a browser' },
      ],
      async run({ options, context }) {
        const port = intOption(options, 'port', 0);
        if (port < 0 || port > 65535) throw new BadFlagError(`--port must be 0..65535, got ${port}`);
        const runsDir = path.resolve(String(options.runs ?? process.env.INTRODL_RUNS ?? 'runs'));
        const studio = await startStudio({ runsDir, port, host: String(options.host ?? '127.0.0.1') });
        context.log(`studio: showing runs in ${runsDir}`);
        context.print(`studio: ${studio.url}`);
        if (options.open !== false) openBrowser(studio.url, context.log);
        await new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        await studio.close();
        return 0;
      },
    },
  ],
};
