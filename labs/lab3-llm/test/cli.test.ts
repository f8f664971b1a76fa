import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, loadModel, syntheticYodaPassage, writeTinyLlama2c } from '../src/index.js';
import { tmpDir, useCpu } from './helpers.js';

/**
 * `introdl lab3 …` end to end: the real CLI binary in a child process (it discovers this package's
 * built commands, so run `npx tsc -b` first), on fixtures written here.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../../../packages/cli/dist/bin.js');
const built = existsSync(bin) && existsSync(path.resolve(here, '../dist/commands.js'));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'lab3', ...args], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, INTRODL_DATA: tmpDir(), INTRODL_CACHE: tmpDir() },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(useCpu);

describe.skipIf(!built)('introdl lab3 (CLI)', () => {
  const tiny = writeTinyLlama2c(tmpDir(), { hiddenSize: 16 });

  it('generate --temperature 0 prints the greedy continuation the library computes', async () => {
    const r = await cli(
      'generate',
      '--model',
      tiny.modelPath,
      '--prompt',
      'the cat',
      '--max-tokens',
      '8',
      '--temperature',
      '0',
      '--backend',
      'cpu',
      '--out',
      path.join(tmpDir(), 'g'),
    );
    expect(r.code, r.stderr).toBe(0);
    const { model, tokenizer } = await loadModel(tiny.modelPath);
    const ids = tokenizer.encode('the cat');
    const out = await generate(model, ids, { maxNewTokens: 8, temperature: 0, stopTokens: [1] });
    expect(r.stdout).toBe(`${tokenizer.decode(out.tokens, { skipSpecialTokens: true })}\n`);
    model.dispose();
  });

  it('train then metric: the adapter lowers the passage NLL, and metric reproduces the number', async () => {
    const passage = path.join(tmpDir(), 'passage.txt');
    writeFileSync(passage, syntheticYodaPassage());
    const out = path.join(tmpDir(), 'run');
    const r = await cli(
      'train',
      '--model',
      tiny.modelPath,
      '--data',
      'synthetic',
      '--steps',
      '6',
      '--lr',
      '5e-3',
      '--batch-size',
      '2',
      '--sample-every',
      '3',
      '--eval-text',
      passage,
      '--backend',
      'cpu',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    const before = Number(/before tuning: Yoda test loglikelihood: ([\d.]+)/.exec(r.stdout)?.[1]);
    const after = Number(/after tuning: {2}Yoda test loglikelihood: ([\d.]+)/.exec(r.stdout)?.[1]);
    expect(after).toBeLessThan(before);
    expect(r.stderr).toMatch(/trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: [\d.]+/);
    expect(r.stderr).toMatch(/update 3: mean loss/);
    const adapter = path.join(out, 'outputs', 'adapter');
    const m = await cli(
      'metric',
      '--model',
      tiny.modelPath,
      '--adapter',
      adapter,
      '--text',
      passage,
      '--backend',
      'cpu',
    );
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout.trim()).toBe(`Yoda test loglikelihood: ${after.toFixed(2)}`);
    expect(JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')).status).toBe('completed');
  });

  it('score --scorer style: the tuned model writes more Yoda-like than the untuned one', async () => {
    const out = path.join(tmpDir(), 'run');
    const model = writeTinyLlama2c(tmpDir(), { hiddenSize: 32, intermediateSize: 48 }).modelPath;
    const t = await cli(
      'train',
      '--model',
      model,
      '--data',
      'synthetic',
      '--steps',
      '100',
      '--lr',
      '1e-2',
      '--batch-size',
      '8',
      '--sample-every',
      '0',
      '--backend',
      'wasm',
      '--out',
      out,
    );
    expect(t.code, t.stderr).toBe(0);
    const r = await cli(
      'score',
      '--model',
      model,
      '--adapter',
      path.join(out, 'outputs', 'adapter'),
      '--data',
      'synthetic',
      '--scorer',
      'style',
      '--n',
      '12',
      '--max-tokens',
      '30',
      '--backend',
      'wasm',
      '--out',
      path.join(tmpDir(), 's'),
    );
    expect(r.code, r.stderr).toBe(0);
    const mean = (name: string) => Number(new RegExp(`${name}: ([\\d.]+) ±`).exec(r.stdout)?.[1]);
    console.log(r.stdout.trim());
    expect(mean('Generated')).toBeGreaterThan(mean('Generated \\(no adapter\\)'));
    expect(mean('Style')).toBeGreaterThan(mean('Base'));
    expect(r.stdout).toMatch(/histogram: .*scores\.png/);
  });

  it('bad flags and missing files: one clear line, no stack trace, non-zero exit', async () => {
    const bad = await cli('generate', '--model', tiny.modelPath, '--temperature', '-1', '--backend', 'cpu');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--temperature must be a number in \[0, 100\]/);
    const missing = await cli(
      'metric',
      '--model',
      path.join(tmpDir(), 'none.bin'),
      '--text',
      tiny.tokenizerPath,
      '--backend',
      'cpu',
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/none\.bin: no such file/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const noText = await cli('metric', '--model', tiny.modelPath, '--backend', 'cpu');
    expect(noText.stderr).toMatch(/yoda_test_text\.txt was not found[\s\S]*pass --text/);
  });

  it('judge scores texts through a local OpenAI-compatible server and reports failures', async () => {
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => {
        const text: string = JSON.parse(raw).messages[1].content;
        const content = text.includes('Hard') ? '{"score": 9}' : 'no idea';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ message: { content } }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const texts = path.join(tmpDir(), 'texts.txt');
    writeFileSync(texts, 'Hard to see, the dark side is.\nTennis is a fun sport.\n');
    const r = await cli(
      'judge',
      '--texts',
      texts,
      '--judge-url',
      url,
      '--judge-model',
      'm',
      '--judge-key',
      'k',
      '--attempts',
      '2',
    );
    server.close();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^0\.90\tHard to see/m);
    expect(r.stdout).toMatch(/^FAILED\tTennis/m);
    expect(r.stdout).toMatch(/Judged: 0\.90 ± 0\.00 \(n=1, 1 failed\)/);
    expect(r.stderr).toMatch(/1 of 2 texts got no score: 1× unparseable reply/);
  });
});
