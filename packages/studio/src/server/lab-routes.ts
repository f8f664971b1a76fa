import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { readBody, readJson } from './body.js';
import { HttpError } from './http-errors.js';
import type { ChatRequest, FaceBox } from './lab-contract.js';
import type { LoadedLabs } from './labs.js';
import { isRunPart } from './runs-index.js';

const MAX_SIDE = 4096;

/** The absolute folder of run id `<lab>/<name>` (400 for anything else). */
export function runFolder(runsDir: string, id: string | null | undefined, lab: string): string {
  const parts = (id ?? '').split('/');
  if (parts.length !== 2 || parts[0] !== lab || !parts.every(isRunPart)) {
    throw new HttpError(400, `run must be "${lab}/<name>", got "${id ?? ''}"`);
  }
  return path.join(runsDir, parts[0], parts[1]);
}

function intParam(url: URL, name: string): number {
  const n = Number(url.searchParams.get(name));
  if (!Number.isInteger(n) || n < 1 || n > MAX_SIDE)
    throw new HttpError(400, `${name} must be an integer 1..${MAX_SIDE}`);
  return n;
}

/** POST /api/lab2/detect?run=lab2-vision/<name>&width=W&height=H with W·H·4 RGBA bytes. */
export async function detectRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  labs: LoadedLabs,
  runsDir: string,
  limit: number,
): Promise<void> {
  const width = intParam(url, 'width');
  const height = intParam(url, 'height');
  const run = runFolder(runsDir, url.searchParams.get('run'), 'lab2-vision');
  const body = await readBody(req, limit);
  if (body.length !== width * height * 4) {
    throw new HttpError(400, `expected ${width}×${height}×4 = ${width * height * 4} RGBA bytes, got ${body.length}`);
  }
  if (!labs.detectFaces) throw new HttpError(501, labs.status.detectFaces.reason ?? 'detection is not available');
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  const boxes: FaceBox[] = await labs.detectFaces(
    { width, height, data: new Uint8Array(body.buffer, body.byteOffset, body.length) },
    { run, signal: controller.signal },
  );
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ boxes }));
}

function parseChat(raw: unknown, runsDir: string): Omit<ChatRequest, 'signal'> {
  const o = (raw ?? {}) as Record<string, unknown>;
  if (typeof o.message !== 'string' || !o.message.trim())
    throw new HttpError(400, 'message must be a non-empty string');
  if (o.message.length > 8000) throw new HttpError(413, 'message is over 8000 characters');
  const model = o.model === 'tuned' ? 'tuned' : o.model === 'base' || o.model === undefined ? 'base' : undefined;
  if (!model) throw new HttpError(400, 'model must be "base" or "tuned"');
  const run = o.run ? runFolder(runsDir, String(o.run), 'lab3-llm') : undefined;
  if (model === 'tuned' && !run) throw new HttpError(400, 'a tuned model needs run: "lab3-llm/<name>"');
  const maxNewTokens = o.maxNewTokens === undefined ? 64 : Number(o.maxNewTokens);
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1 || maxNewTokens > 1024) {
    throw new HttpError(400, 'maxNewTokens must be an integer 1..1024');
  }
  const temperature = o.temperature === undefined ? 0.7 : Number(o.temperature);
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2) {
    throw new HttpError(400, 'temperature must be a number 0..2');
  }
  return { message: o.message, model, run, maxNewTokens, temperature };
}

/** POST /api/lab3/chat with JSON {message, model, run?, maxNewTokens?, temperature?}: tokens as SSE. */
export async function chatRoute(
  req: IncomingMessage,
  res: ServerResponse,
  labs: LoadedLabs,
  runsDir: string,
): Promise<void> {
  const request = parseChat(await readJson(req, 64 * 1024), runsDir);
  if (!labs.chatStream) throw new HttpError(501, labs.status.chatStream.reason ?? 'chat is not available');
  const controller = new AbortController();
  res.on('close', () => controller.abort());
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let pieces = 0;
  try {
    for await (const piece of labs.chatStream({ ...request, signal: controller.signal })) {
      if (controller.signal.aborted) break;
      pieces++;
      res.write(`data: ${JSON.stringify({ token: piece })}\n\n`);
    }
    res.write(`event: done\ndata: ${JSON.stringify({ pieces })}\n\n`);
  } catch (err) {
    res.write(`event: error\ndata: ${JSON.stringify({ message: (err as Error).message })}\n\n`);
  }
  res.end();
}
