import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Streams a run's log.jsonl as server-sent events: every line already there, then each line as
 * the trainer appends it (`data: <json>`), plus `event: status` when run.json's status changes
 * and `event: reset` when the log shrinks (a resumed run truncates it). Polling the size is used
 * rather than fs.watch, which misses appends on some file systems and in containers.
 */
export function streamLog(
  req: IncomingMessage,
  res: ServerResponse,
  files: { log: string; runJson: string },
  pollMs = 250,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let offset = 0;
  let partial = Buffer.alloc(0);
  let status: string | undefined;
  let sinceHeartbeat = 0;

  const send = (text: string) => res.write(text);

  const readStatus = () => {
    try {
      const s = (JSON.parse(readFileSync(files.runJson, 'utf8')) as { status?: string }).status;
      if (s && s !== status) {
        status = s;
        send(`event: status\ndata: ${JSON.stringify({ status: s })}\n\n`);
      }
    } catch {
      // run.json is being replaced (atomic rename) or is missing: try again next tick
    }
  };

  const readNew = () => {
    let size: number;
    try {
      size = statSync(files.log).size;
    } catch {
      return; // no log yet
    }
    if (size < offset) {
      offset = 0;
      partial = Buffer.alloc(0);
      send('event: reset\ndata: {}\n\n');
    }
    if (size === offset) return;
    const fd = openSync(files.log, 'r');
    try {
      const chunk = Buffer.alloc(size - offset);
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      offset += n;
      partial = Buffer.concat([partial, chunk.subarray(0, n)]);
    } finally {
      closeSync(fd);
    }
    let newline = partial.indexOf(0x0a);
    while (newline >= 0) {
      const line = partial.subarray(0, newline).toString('utf8').trim();
      partial = partial.subarray(newline + 1);
      newline = partial.indexOf(0x0a);
      if (!line) continue;
      try {
        JSON.parse(line);
      } catch {
        continue; // a torn line left by a crash
      }
      send(`data: ${line}\n\n`);
    }
  };

  const tick = () => {
    readNew();
    readStatus();
    sinceHeartbeat += pollMs;
    if (sinceHeartbeat >= 15_000) {
      sinceHeartbeat = 0;
      send(': keep-alive\n\n');
    }
  };
  tick();
  const timer = setInterval(tick, pollMs);
  const stop = () => clearInterval(timer);
  req.on('close', stop);
  res.on('close', stop);
}
