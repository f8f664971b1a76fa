import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { type BatchResult, chooseIsolation, gradeBatch, type SubmissionResult } from '@introdl/grader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE_DIR, LAB0_DIR, lab0, removeTmpDirs, solvedWorkspace, tmp, zipEntriesOf } from './helpers/lab0.js';
import { makeZip } from './helpers/zip-writer.js';

/** Short limits so the whole batch stays well under a minute. */
const LIMITS = { testSeconds: 3, memoryMb: 384, cpuSeconds: 20, totalSeconds: 60 };

/** A TCP server on the grading machine that counts who reaches it. */
async function listen(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((socket) => {
    hits++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { server, port, hits: () => hits };
}

/** Processes whose command line contains `needle` (this test's own `ps` aside). */
function processesWith(needle: string): string[] {
  const r = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'));
}

describe('hostile submissions, graded in one batch with honest ones', () => {
  const root = tmp('introdl-hostile-');
  const subs = path.join(root, 'subs');
  const out = path.join(root, 'grades');
  const sleepSeconds = String(900_000 + Math.floor(Math.random() * 99_999));
  const escapedName = `escaped-${path.basename(root)}.txt`;
  let net: Awaited<ReturnType<typeof listen>>;
  let batch: BatchResult;
  const result = (name: string) => batch.results.find((r) => r.name === name) as SubmissionResult;
  const dotTests = (name: string) => result(name).tests.filter((t) => t.exercise === 'lab0.1.1');

  beforeAll(async () => {
    net = await listen();
    const fill = (text: string) =>
      text
        .replaceAll('__LAB_DIR__', LAB0_DIR)
        .replaceAll('__OUT_DIR__', out)
        .replaceAll('__PORT__', String(net.port))
        .replaceAll('__SLEEP_SECONDS__', sleepSeconds);
    const sources: string[] = [];
    for (const file of readdirSync(HOSTILE_DIR)
      .filter((f) => f.endsWith('.txt'))
      .sort()) {
      const body = fill(readFileSync(path.join(HOSTILE_DIR, file), 'utf8')).trimEnd();
      sources.push(await solvedWorkspace(path.join(subs, file.replace(/\.txt$/, '')), { 'lab0.1.1': body }));
    }
    // Honest work, as a folder and as a zip, in the same batch.
    const honest = await solvedWorkspace(path.join(subs, 'honest-folder'));
    sources.push(honest);
    const solvedFiles = zipEntriesOf(honest, 'lab0/');
    const zip = (name: string, entries: Parameters<typeof makeZip>[0]) => {
      const file = path.join(subs, `${name}.zip`);
      writeFileSync(file, makeZip(entries));
      sources.push(file);
    };
    zip('honest-zip', solvedFiles);
    // zip-slip: an entry that climbs out of the extraction folder.
    zip('zip-slip', [...solvedFiles, { name: `../../${escapedName}`, data: 'pwned' }]);
    // A symbolic link entry pointing at the reference solution.
    zip('zip-symlink', [
      ...solvedFiles.filter((e) => e.name !== 'lab0/src/vectors.ts'),
      { name: 'lab0/src/vectors.ts', data: path.join(LAB0_DIR, 'src/vectors.ts'), mode: 0o120777 },
    ]);
    // A 10 GB entry, declared in a zip of a few kilobytes.
    zip('zip-bomb-10gb', [
      ...solvedFiles,
      { name: 'lab0/src/weights.bin', raw: deflateRawSync(Buffer.alloc(1 << 20)), declaredSize: 10 * 1024 ** 3 },
    ]);
    // An exercise file that says 1 KB and inflates to 64 MB.
    zip('zip-bomb-lying', [
      ...solvedFiles.filter((e) => e.name !== 'lab0/src/vectors.ts'),
      { name: 'lab0/src/vectors.ts', raw: deflateRawSync(Buffer.alloc(64 << 20, 32)), declaredSize: 1024 },
    ]);
    // A folder whose exercise file is a link to the reference solution.
    const linked = await solvedWorkspace(path.join(subs, 'folder-symlink'));
    const target = path.join(linked, 'src/vectors.ts');
    spawnSync('rm', [target]);
    symlinkSync(path.join(LAB0_DIR, 'src/vectors.ts'), target);
    sources.push(linked);

    batch = await gradeBatch(await lab0(), sources, { jobs: 2, out, limits: LIMITS });
  }, 240_000);

  afterAll(() => net?.server.close());

  it('the batch finishes and honest submissions get full marks', () => {
    expect(batch.results).toHaveLength(17);
    expect(result('honest-folder').score).toBe(20);
    expect(result('honest-zip').score).toBe(20);
  });

  it.each([
    ['infinite-loop', /^stopped after 3 s \(time limit\): an infinite loop\?$/],
    ['allocate-50gb', /^ran out of memory \(limit 384 MB\)/],
    ['exhaust-heap', /ran out of memory \(limit 384 MB\)/],
    [
      'read-secrets',
      /^your code threw Error: could not read the secrets: (ERR_ACCESS_DENIED|EACCES), (ERR_ACCESS_DENIED|EACCES)$/,
    ],
    ['fake-results', /^your code threw Error: wrote 0 fake results files; blocked: (ERR_ACCESS_DENIED|EACCES|ENOENT)/],
    ['process-exit', /^your code called process\.exit\(0\)$/],
    ['fake-pass-lines', /^wrong value at the output$/],
    ['spawn-children', /^blocked: the sandbox does not let graded code start processes$/],
    ['network', /^your code threw Error: network access is disabled while grading \(net\.connect\)$/],
  ])('%s: loses exactly the attacked exercise, with its own message', (name, message) => {
    const r = result(name);
    const dot = dotTests(name);
    expect(dot.map((t) => t.message)).toEqual([expect.stringMatching(message), expect.stringMatching(message)]);
    expect(r.score, JSON.stringify(r.tests.filter((t) => t.exercise !== 'lab0.1.1' && t.status === 'failed'))).toBe(16);
  });

  it('a fake results.json never lands, and the real one has the real score', () => {
    expect(existsSync(path.join(out, 'fake-results', 'results.json'))).toBe(true);
    const json = JSON.parse(readFileSync(path.join(out, 'fake-results', 'results.json'), 'utf8'));
    expect(json.score).toBe(16);
    expect(existsSync('/autograder/results/results.json')).toBe(false);
  });

  it('printed and forged pass lines are ignored and shown only as untrusted output', () => {
    const r = result('fake-pass-lines');
    expect(r.stdout).toContain('✓ all tests passed');
    expect(dotTests('fake-pass-lines')[0].detail).toBe('expected 32, got 6');
    const report = readFileSync(path.join(out, 'fake-pass-lines', 'report.md'), 'utf8');
    expect(report).toContain('## What the code printed (untrusted, not used for grading)');
    expect(report).toContain('**Score: 16 / 20**');
  });

  it('report-injection: the exception is shown as quoted, escaped, bounded text everywhere a TA looks', () => {
    const r = result('report-injection');
    expect(r.score).toBe(16);
    const message = dotTests('report-injection')[0].message ?? '';
    expect(message).toMatch(/^your code threw Error: \\x1b\[2J\\x1b\]8;;https:/);
    expect(message.endsWith('… (truncated)')).toBe(true);
    expect(message.length).toBeLessThanOrEqual(2000 + '… (truncated)'.length);
    const dir = path.join(out, 'report-injection');
    const files = {
      'report.md': readFileSync(path.join(dir, 'report.md'), 'utf8'),
      'results.json': readFileSync(path.join(dir, 'results.json'), 'utf8'),
      'summary.csv': readFileSync(path.join(out, 'summary.csv'), 'utf8'),
    };
    for (const [name, text] of Object.entries(files)) {
      expect(text.includes('\u001b'), `${name} holds an ESC byte`).toBe(false);
      expect(text.includes('\u0007'), `${name} holds a BEL byte`).toBe(false);
      expect(text.includes('\r'), `${name} holds a carriage return`).toBe(false);
      expect(text.includes('\u202e'), `${name} holds a right-to-left override`).toBe(false);
      expect(text, name).not.toMatch(/<script|<img/i);
    }
    // Spreadsheets run a cell that starts with = + - @ as a formula.
    for (const row of parseCsv(files['summary.csv'])) {
      for (const cell of row) expect(cell, `summary.csv cell ${JSON.stringify(cell)}`).not.toMatch(/^[=+\-@]/);
    }
    // The forged rows are inside a block quote, never rows, list items or headings of the report.
    const report = files['report.md'];
    const lines = report.split('\n');
    expect(lines.filter((l) => /✓/.test(l) && !l.startsWith('> ')).every((l) => /^- ✓ \S/.test(l))).toBe(true);
    expect(lines.some((l) => /^(- )?✓ lab3/.test(l))).toBe(false);
    expect(lines.filter((l) => l.startsWith('|')).length).toBe(2 + r.exercises.length);
    expect(lines.filter((l) => l === '## Passing tests').length).toBe(1);
    expect(report).toContain('> ✓ lab3\\.2\\.1 passed 10\\/10');
    expect(report).toContain('&lt;script&gt;alert\\(1\\)&lt;\\/script&gt;');
    const json = JSON.parse(files['results.json']);
    expect(json.output_format).toBe('md');
    const dot = json.tests.find((t: { output: string; score: number }) => t.score === 0);
    expect(dot.output.split('\n').every((l: string) => l.startsWith('>') || l.startsWith('Hint: ') || l === '')).toBe(
      true,
    );
  });

  it('a process exit, a crash of the heap and a loop each cost only their own test: fresh processes run the rest', () => {
    expect(result('process-exit').children).toBe(3);
    expect(result('infinite-loop').children).toBe(3);
    expect(result('honest-folder').children).toBe(1);
  });

  it('nothing the submissions started is still running, and the server saw no connection', () => {
    expect(processesWith(`sleep ${sleepSeconds}`)).toEqual([]);
    expect(net.hits()).toBe(0);
  });

  it.each([
    ['zip-slip', /^entry "\.\.\/\.\.\/escaped-.*\.txt" climbs out of the folder with "\.\." \(zip-slip\)$/],
    ['zip-symlink', /^entry "lab0\/src\/vectors\.ts" is a symbolic link; only plain files are accepted$/],
    ['zip-bomb-10gb', /^entry "lab0\/src\/weights\.bin" expands to 10\.0 GB \(limit 4\.0 MB per file\): a zip bomb\?$/],
    ['zip-bomb-lying', /^entry "lab0\/src\/vectors\.ts" inflates past its declared size: a zip bomb$/],
  ])('%s: refused as a whole with its reason, nothing written outside', (name, reason) => {
    const r = result(name);
    expect(r.rejected).toMatch(reason);
    expect(r.score).toBe(0);
    expect(r.tests.every((t) => t.message === `submission refused: ${r.rejected}`)).toBe(true);
    const gradescope = JSON.parse(readFileSync(path.join(out, name, 'results.json'), 'utf8'));
    expect(gradescope.output).toMatch(/^Your submission was refused:\n\n> entry /);
    for (let dir = subs; dir !== path.dirname(dir); dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, escapedName))).toBe(false);
    }
    expect(existsSync(path.join(os.tmpdir(), escapedName))).toBe(false);
  });

  it('folder-symlink: the linked file is not followed; its exercises score 0, the rest full', () => {
    const r = result('folder-symlink');
    expect(r.score).toBe(12);
    const vectorsTests = r.tests.filter((t) => t.exercise === 'lab0.1.1' || t.exercise === 'lab0.1.2');
    for (const t of vectorsTests)
      expect(t.message).toMatch(/^src\/vectors\.ts: is a symbolic link; submit the file itself; not started/);
  });
});

describe('the operating-system layers alone (namespaces, no in-process guard)', () => {
  const level = chooseIsolation().level;
  const namespaced = level === 'namespaces' || level === 'user-namespaces';

  it.skipIf(!namespaced)(`network and hidden folders (isolation here: ${level})`, async () => {
    const net = await listen();
    try {
      const root = tmp();
      const nodeModules = path.resolve(LAB0_DIR, '../../../../node_modules');
      const netBody = readFileSync(path.join(HOSTILE_DIR, 'network.txt'), 'utf8').replaceAll(
        '__PORT__',
        String(net.port),
      );
      // Reads through node_modules links: allowed by the permission model's paths, hidden by the mounts.
      const linkBody = `  const fs = process.getBuiltinModule('node:fs') as typeof import('node:fs');
  const codes: string[] = [];
  for (const p of ['${nodeModules}/@introdl/grader/package.json', '${LAB0_DIR}/package.json']) {
    try { fs.readFileSync(p); codes.push('read'); } catch (err) { codes.push((err as { code?: string }).code ?? '?'); }
  }
  throw new Error(codes.join(','));`;
      const a = await solvedWorkspace(path.join(root, 'net'), { 'lab0.1.1': netBody.trimEnd() });
      const b = await solvedWorkspace(path.join(root, 'links'), { 'lab0.1.1': linkBody });
      const batch = await gradeBatch(await lab0(), [a, b], { guards: false, limits: LIMITS, jobs: 2 });
      // Without the guard the connection attempt goes ahead, into an empty network namespace.
      expect(batch.results[0].score).toBe(20);
      await new Promise((r) => setTimeout(r, 200));
      expect(net.hits()).toBe(0);
      // The grader's package is covered by an empty mount; the lab folder is outside the allowed reads.
      expect(batch.results[1].tests[0].message).toBe('your code threw Error: EACCES,ERR_ACCESS_DENIED');
    } finally {
      net.server.close();
    }
  });
});

describe('the weakest level still protects the basics', () => {
  it('basic isolation: honest work scores full; reading secrets and starting processes are blocked', async () => {
    const root = tmp();
    const read = readFileSync(path.join(HOSTILE_DIR, 'read-secrets.txt'), 'utf8').replaceAll('__LAB_DIR__', LAB0_DIR);
    const spawnBody = readFileSync(path.join(HOSTILE_DIR, 'spawn-children.txt'), 'utf8').replaceAll(
      '__SLEEP_SECONDS__',
      '1',
    );
    const subs = [
      await solvedWorkspace(path.join(root, 'honest')),
      await solvedWorkspace(path.join(root, 'read'), { 'lab0.1.1': read.trimEnd() }),
      await solvedWorkspace(path.join(root, 'spawn'), { 'lab0.1.1': spawnBody.trimEnd() }),
    ];
    const batch = await gradeBatch(await lab0(), subs, { isolation: 'basic', limits: LIMITS, jobs: 2 });
    expect(batch.results.map((r) => r.score)).toEqual([20, 16, 16]);
    expect(batch.results[1].tests[0].message).toBe(
      'your code threw Error: could not read the secrets: ERR_ACCESS_DENIED, ERR_ACCESS_DENIED',
    );
    expect(batch.results[2].tests[0].message).toBe('blocked: the sandbox does not let graded code start processes');
  });
});

/** RFC 4180 rows of a CSV text (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

afterAll(removeTmpDirs);
