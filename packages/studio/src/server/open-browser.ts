import { spawn } from 'node:child_process';

/** Asks the desktop to open `url` in the default browser; failures only print a hint. */
export function openBrowser(url: string, log: (m: string) => void): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer.exe' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => log(`could not open a browser (${command}); open ${url} yourself`));
    child.unref();
  } catch {
    log(`could not open a browser; open ${url} yourself`);
  }
}
