/**
 * The child side of grading. This file is copied into each sandbox and run by Node under the
 * permission model, as an unprivileged user, in its own namespaces where the system allows: it
 * must stay free of imports other than Node's own.
 *
 * Protocol: the job arrives as one JSON document on stdin:
 *   { nonce, module: "./probes.mjs", tests: [{ i, probe, input }], guards: true }
 * and the runner answers on fd 3, one line per message, `{"n": nonce, "m": message}`:
 *   {type:"ready"} | {type:"start", i} | {type:"result", i, ok, output | error} | {type:"done"}
 *   {type:"load-error", error} | {type:"exit", code} | {type:"crash", error}
 * The grading process trusts nothing in these messages but their order: outputs are compared with
 * expected values the child never sees.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface Job {
  nonce: string;
  module: string;
  tests: { i: number; probe: string; input: Json }[];
  guards: boolean;
}

// Keep our own references before any student code can replace them.
const writeSync = fs.writeSync;
const realExit = process.exit.bind(process);
const stringify = JSON.stringify;
const bufferFrom = Buffer.from.bind(Buffer);
/** Set from the job: every message carries it, so lines forged by the submission are ignored. */
let nonce = '""';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes one message line to fd 3, waiting out a full pipe (EAGAIN) instead of dropping it. */
function send(message: Record<string, unknown>): void {
  // The nonce is spliced in as text, so it never passes through code the submission could patch.
  const data = bufferFrom(`{"n":${nonce},"m":${stringify(message)}}\n`);
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(3, data, offset, data.length - offset);
    } catch (err) {
      if ((err as { code?: string }).code === 'EAGAIN') Atomics.wait(pause, 0, 0, 2);
      else return; // fd 3 closed (by the submission): the grading process sees the pipe end.
    }
  }
}

/** What each permission of Node's permission model guards, in words. */
const DENIED: Record<string, string> = {
  FileSystemRead: 'read this file',
  FileSystemWrite: 'write this file',
  ChildProcess: 'start processes',
  WorkerThreads: 'start worker threads',
};

/** A short, serialisable description of an error: its message and where in the lab's source it was thrown. */
function describe(err: unknown): { name: string; message: string; where?: string } {
  if (!(err instanceof Error)) return { name: 'Thrown', message: String(err).slice(0, 2000) };
  const denied = err as Error & { code?: string; permission?: string; resource?: string };
  if (denied.code === 'ERR_ACCESS_DENIED') {
    const what =
      DENIED[denied.permission ?? ''] ??
      (denied.permission ? `use ${denied.permission}` : `do this: ${denied.message}`);
    return {
      name: 'SandboxDenied',
      message: `the sandbox does not let graded code ${what}${denied.resource ? ` (${denied.resource})` : ''}`,
    };
  }
  const frame = (err.stack ?? '').split('\n').find((l) => /\bsrc\/.*:\d+:\d+/.test(l) && !l.includes('/grading/'));
  const where = frame ? /(src\/[^\s():]+:\d+)/.exec(frame)?.[1] : undefined;
  return { name: err.name, message: String(err.message).slice(0, 2000), ...(where ? { where } : {}) };
}

/** Converts what a probe returned to JSON: tensors to nested arrays, typed arrays to arrays, NaN/±Infinity tagged. */
function toJson(v: unknown, depth = 0): Json {
  if (depth > 64) throw new Error('the output is nested more than 64 levels deep');
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : { $number: String(v) };
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number>, (x) => toJson(x, depth + 1));
  }
  if (Array.isArray(v)) return v.map((x) => toJson(x, depth + 1));
  if (typeof v === 'object') {
    const t = v as { arraySync?: () => unknown; shape?: unknown };
    if (typeof t.arraySync === 'function' && Array.isArray(t.shape)) return toJson(t.arraySync(), depth + 1);
    if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJson(x, depth + 1)]));
    if (v instanceof Set) return [...v].map((x) => toJson(x, depth + 1));
    const o: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toJson(x, depth + 1);
    return o;
  }
  throw new Error(`a probe returned a ${typeof v}, which cannot be sent back to the grader`);
}

/** Makes every way out to the network throw a clear error (the namespaces, where present, block it too). */
function blockNetwork(): void {
  const refuse = (what: string) => () => {
    const err = new Error(`network access is disabled while grading (${what})`) as Error & { code: string };
    err.code = 'ERR_GRADER_NO_NETWORK';
    throw err;
  };
  net.Socket.prototype.connect = refuse('net.Socket.connect') as never;
  net.Server.prototype.listen = refuse('net.Server.listen') as never;
  net.connect = refuse('net.connect') as never;
  net.createConnection = refuse('net.createConnection') as never;
  dgram.createSocket = refuse('dgram.createSocket') as never;
  dns.lookup = refuse('dns.lookup') as never;
  dns.resolve = refuse('dns.resolve') as never;
  dns.promises.lookup = refuse('dns.promises.lookup') as never;
  dns.promises.resolve = refuse('dns.promises.resolve') as never;
  globalThis.fetch = refuse('fetch') as never;
  syncBuiltinESMExports();
}

/**
 * Node 20's permission model refuses fsync outright, which breaks code that writes files
 * atomically (write, fsync, rename) even inside the sandbox's tmp/. Durability means nothing in a
 * folder deleted after grading, so syncing becomes a no-op.
 */
async function noFsync(tmp: string): Promise<void> {
  const ok = () => {};
  fs.fsyncSync = ok;
  fs.fdatasyncSync = ok;
  fs.fsync = ((_fd: number, cb: (err: null) => void) => process.nextTick(cb, null)) as never;
  fs.fdatasync = fs.fsync as never;
  const probe = path.join(tmp, `.sync-${process.pid}`);
  const handle = await fs.promises.open(probe, 'w');
  const proto = Object.getPrototypeOf(handle) as { sync: () => Promise<void>; datasync: () => Promise<void> };
  proto.sync = async () => {};
  proto.datasync = async () => {};
  await handle.close();
  fs.rmSync(probe, { force: true });
  syncBuiltinESMExports();
}

async function main(): Promise<void> {
  const job = JSON.parse(fs.readFileSync(0, 'utf8')) as Job;
  nonce = stringify(job.nonce);
  await noFsync(process.env.TMPDIR ?? path.join(process.cwd(), 'tmp'));
  if (job.guards) blockNetwork();
  let current: number | undefined;
  process.exit = ((code?: number) => {
    send({ type: 'exit', code: code ?? 0, during: current ?? null });
    realExit(code);
  }) as never;
  const crash = (err: unknown) => {
    send({ type: 'crash', error: describe(err), during: current ?? null });
    realExit(70);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path.resolve(job.module)).href)) as Record<string, unknown>;
    if (typeof mod.setup === 'function') await (mod.setup as () => unknown)();
  } catch (err) {
    send({ type: 'load-error', error: describe(err) });
    realExit(0);
    return;
  }
  send({ type: 'ready' });
  for (const t of job.tests) {
    current = t.i;
    send({ type: 'start', i: t.i });
    try {
      const fn = mod[t.probe];
      if (typeof fn !== 'function') throw new Error(`the probes module has no function "${t.probe}"`);
      const output = toJson(await (fn as (input: Json) => unknown)(t.input));
      send({ type: 'result', i: t.i, ok: true, output });
    } catch (err) {
      send({ type: 'result', i: t.i, ok: false, error: describe(err) });
    }
  }
  current = undefined;
  send({ type: 'done' });
  realExit(0);
}

await main();
