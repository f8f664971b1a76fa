import { appendFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendLogStep, makeRunsFolder } from '../test-support/fixtures.js';
import type { ChatRequest } from './lab-contract.js';
import { type Studio, startStudio } from './server.js';

/** Sends bytes as they are (no URL normalisation, unlike fetch) and returns status and body. */
function raw(port: number, request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (d) => {
      data += d.toString('latin1');
    });
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', reject);
  });
}

const get = (port: number, target: string) =>
  raw(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);

let studio: Studio;
let runs: { root: string; liveRun: string };
let appDir: string;
const chats: ChatRequest[] = [];

beforeAll(async () => {
  runs = makeRunsFolder();
  // A secret beside the runs folder that no request may read, and a link pointing at it.
  writeFileSync(path.join(runs.root, '..', 'secret.txt'), 'do not serve');
  symlinkSync(
    path.join(runs.root, '..', 'secret.txt'),
    path.join(runs.root, 'lab1-music', 'quick', 'outputs', 'link.txt'),
  );
  appDir = path.join(runs.root, '..', 'app');
  mkdirSync(appDir);
  writeFileSync(path.join(appDir, 'index.html'), '<!doctype html><title>studio</title>');
  studio = await startStudio({
    runsDir: runs.root,
    appDir,
    maxUploadBytes: 64 * 64 * 4,
    labs: {
      views: {},
      chatStream: async function* (request) {
        chats.push(request);
        for (const word of ['Paris, ', 'the capital ', 'it is.']) yield word;
      },
      detectFaces: async (image) => [
        { x: 1, y: 2, width: image.width / 2, height: image.height / 2, pFace: image.data[0] / 255 },
      ],
    },
  });
});

afterAll(async () => {
  await studio?.close();
});

describe('serving files', () => {
  it('binds to 127.0.0.1 and prints an http URL with the port it got', () => {
    expect(studio.url).toBe(`http://127.0.0.1:${studio.port}/`);
    expect(studio.port).toBeGreaterThan(0);
  });

  it('serves the app and files of the runs folder with their types', async () => {
    const index = await fetch(studio.url);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(await index.text()).toContain('<title>studio</title>');
    const song = await fetch(`${studio.url}runs/lab1-music/quick/outputs/songs/song-01.abc`);
    expect(song.status).toBe(200);
    expect(song.headers.get('content-type')).toMatch(/^text\/vnd\.abc/);
    expect(await song.text()).toMatch(/^X:1\nT:Studio Test Reel/);
  });

  it('answers a byte range (audio players seek with it)', async () => {
    const res = await fetch(`${studio.url}runs/lab1-music/quick/outputs/songs/song-01.abc`, {
      headers: { range: 'bytes=2-4' },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toMatch(/^bytes 2-4\/\d+$/);
    expect(await res.text()).toBe('1\nT');
  });

  it.each([
    '/runs/..%2f..%2fetc/passwd',
    '/runs/..%2fsecret.txt',
    '/runs/%2e%2e/secret.txt',
    '/runs/lab1-music/..%2f..%2fsecret.txt',
    '/runs/..%5csecret.txt',
    '/runs/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/runs/lab1-music/quick/outputs/link.txt',
    '/..%2f..%2f..%2fetc/passwd',
    '/runs/%00/x',
    '/runs/%E0%A4%A',
  ])('refuses %s', async (target) => {
    const res = await get(studio.port, target);
    expect([400, 403, 404]).toContain(res.status);
    expect(res.body).not.toContain('root:');
    expect(res.body).not.toContain('do not serve');
  });

  it('refuses a plain ../ that reaches the server unnormalised', async () => {
    const res = await get(studio.port, '/runs/../../secret.txt');
    expect([403, 404]).toContain(res.status);
    expect(res.body).not.toContain('do not serve');
  });

  it('refuses another Host (DNS rebinding) and methods other than GET on files', async () => {
    const rebinding = await raw(
      studio.port,
      `GET /api/runs HTTP/1.1\r\nHost: evil.example:${studio.port}\r\nConnection: close\r\n\r\n`,
    );
    expect(rebinding.status).toBe(403);
    const put = await fetch(`${studio.url}runs/lab1-music/quick/run.json`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
  });
});

describe('the runs API', () => {
  it('lists every run folder with its config and outputs', async () => {
    const body = (await (await fetch(`${studio.url}api/runs`)).json()) as {
      runs: { id: string; info: { config: unknown }; outputs: { path: string }[] }[];
    };
    const ids = body.runs.map((r) => r.id).sort();
    expect(ids).toEqual(['lab1-music/live', 'lab1-music/quick', 'lab2-vision/faces', 'lab3-llm/yoda']);
    const quick = body.runs.find((r) => r.id === 'lab1-music/quick');
    expect(quick?.info.config).toMatchObject({ preset: 'quick', steps: 40 });
    expect(quick?.outputs.map((o) => o.path)).toEqual(
      expect.arrayContaining(['outputs/songs/song-01.abc', 'outputs/hand-written.abc', 'outputs/songs.json']),
    );
  });

  it('answers 404 for a run that does not exist and refuses odd names', async () => {
    expect((await fetch(`${studio.url}api/runs/lab1-music/nope`)).status).toBe(404);
    expect((await get(studio.port, '/api/runs/..%2f..%2f/etc')).status).toBe(404);
  });

  it('streams log.jsonl as server-sent events, including lines appended while it watches', {
    timeout: 20_000,
  }, async () => {
    const controller = new AbortController();
    const res = await fetch(`${studio.url}api/runs/lab1-music/live/log`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const steps = () => [...text.matchAll(/^data: (\{"step".*)$/gm)].map((m) => JSON.parse(m[1]).step as number);
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const { value } = await reader.read();
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil(() => text.includes('event: status'));
    expect(text).toContain('"status":"running"');
    for (let step = 1; step <= 3; step++) appendLogStep(runs.liveRun, step);
    await readUntil(() => steps().length >= 3);
    // A line written in two pieces is sent once, whole, when its newline arrives.
    appendFileSync(path.join(runs.liveRun, 'log.jsonl'), '{"step":4,"lo');
    await new Promise((r) => setTimeout(r, 600));
    expect(steps()).toEqual([1, 2, 3]);
    appendFileSync(path.join(runs.liveRun, 'log.jsonl'), 'ss":1.5}\n');
    await readUntil(() => steps().includes(4));
    // A resumed run truncates the log: the page is told to start over.
    writeFileSync(path.join(runs.liveRun, 'log.jsonl'), '{"step":1,"loss":4}\n');
    await readUntil(() => text.includes('event: reset'));
    await readUntil(() => steps().length >= 5);
    expect(steps()).toEqual([1, 2, 3, 4, 1]);
    controller.abort();
  });
});

describe('lab features', () => {
  it('passes an image to the lab detector and returns its boxes with P(face)', { timeout: 30_000 }, async () => {
    const pixels = new Uint8Array(8 * 4 * 4).fill(51);
    const res = await fetch(`${studio.url}api/lab2/detect?run=lab2-vision/faces&width=8&height=4`, {
      method: 'POST',
      body: pixels,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ boxes: [{ x: 1, y: 2, width: 4, height: 2, pFace: 0.2 }] });
  });

  it('refuses an image whose size does not match, a bad run and an upload over the limit (413)', async () => {
    const bad = await fetch(`${studio.url}api/lab2/detect?run=lab2-vision/faces&width=8&height=4`, {
      method: 'POST',
      body: new Uint8Array(10),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/expected 8×4×4 = 128 RGBA bytes, got 10/);
    const outside = await fetch(`${studio.url}api/lab2/detect?run=lab2-vision/..&width=1&height=1`, {
      method: 'POST',
      body: new Uint8Array(4),
    });
    expect(outside.status).toBe(400);
    const big = await fetch(`${studio.url}api/lab2/detect?run=lab2-vision/faces&width=100&height=100`, {
      method: 'POST',
      body: new Uint8Array(100 * 100 * 4),
    });
    expect(big.status).toBe(413);
    // Without a Content-Length (chunked), the limit still holds while streaming.
    const chunked = await raw(
      studio.port,
      `POST /api/lab2/detect?run=lab2-vision/faces&width=100&height=100 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(64 * 64 * 4 + 1).toString(16)}\r\n${'a'.repeat(64 * 64 * 4 + 1)}\r\n0\r\n\r\n`,
    );
    expect(chunked.status).toBe(413);
  });

  it('streams chat tokens as server-sent events', async () => {
    const res = await fetch(`${studio.url}api/lab3/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: 'What is the capital of France?',
        model: 'tuned',
        run: 'lab3-llm/yoda',
        temperature: 0.5,
        maxNewTokens: 20,
      }),
    });
    const text = await res.text();
    const tokens = [...text.matchAll(/^data: (\{"token".*)$/gm)].map((m) => JSON.parse(m[1]).token);
    expect(tokens).toEqual(['Paris, ', 'the capital ', 'it is.']);
    expect(text).toMatch(/event: done\ndata: \{"pieces":3\}/);
    const request = chats.at(-1)!;
    expect(request).toMatchObject({
      message: 'What is the capital of France?',
      model: 'tuned',
      temperature: 0.5,
      maxNewTokens: 20,
    });
    expect(request.run).toBe(path.join(runs.root, 'lab3-llm', 'yoda'));
  });

  it('refuses a bad chat request with one clear message', async () => {
    const post = (body: unknown) =>
      fetch(`${studio.url}api/lab3/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await (await post({ message: '' })).json()).error).toMatch(/message must be a non-empty string/);
    expect((await (await post({ message: 'hi', model: 'tuned' })).json()).error).toMatch(/tuned model needs run/);
    expect((await (await post({ message: 'hi', temperature: 9 })).json()).error).toMatch(
      /temperature must be a number 0..2/,
    );
  });

  it('says which lab features are missing when a lab does not export them', async () => {
    const bare = await startStudio({ runsDir: runs.root, appDir, labs: { views: {} } });
    try {
      const status = (await (await fetch(`${bare.url}api/status`)).json()) as {
        features: Record<string, { available: boolean; reason?: string }>;
      };
      for (const f of ['detectFaces', 'chatStream']) {
        if (status.features[f].available) continue; // the lab has it by now
        expect(status.features[f].reason).toMatch(
          /@introdl\/lab[23]-\w+ (does not export \w+\(\) yet|is not installed|failed to load)/,
        );
      }
      const res = await fetch(`${bare.url}api/lab3/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hi' }),
      });
      if (!status.features.chatStream.available) expect(res.status).toBe(501);
    } finally {
      await bare.close();
    }
  });

  it('says the app is not built instead of failing when dist/app is missing', async () => {
    const empty = await startStudio({
      runsDir: runs.root,
      appDir: path.join(os.tmpdir(), 'no-such-studio-app'),
      labs: { views: {} },
    });
    try {
      const res = await fetch(empty.url);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build -w @introdl\/studio/);
    } finally {
      await empty.close();
    }
  });
});
