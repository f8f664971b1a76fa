import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { introdl } from './run-cli.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'introdl-cli-'));

describe('introdl doctor', () => {
  it('reports each backend with a reason, data folders, and exits 0 when one works', () => {
    const r = introdl(['doctor']);
    expect(r.code, r.all).toBe(0);
    expect(r.stdout).toMatch(/wasm\s+works\s+WebAssembly/);
    expect(r.stdout).toMatch(/cpu\s+works/);
    // This machine (and CI) has no GPU: webgpu must say why, not just "no".
    expect(r.stdout).toMatch(/webgpu\s+(works|no\s+\S.*)/);
    expect(r.stdout).toMatch(/node\s+(works|no\s+(not installed|installed but))/);
    expect(r.stdout).toMatch(/INTRODL_DATA/);
    expect(r.stdout).toMatch(/Next/);
    // Dawn's own C++ warnings (no Vulkan loader, Mesa's reduced limits) stay out of the report:
    // doctor probes WebGPU and ONNX Runtime's providers in child processes.
    expect(r.stderr).not.toMatch(/Warning: |Couldn't load Vulkan|at operator\(\)/);
  });

  it('prints JSON with --json', () => {
    const r = introdl(['doctor', '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.backends.map((b: { name: string }) => b.name)).toEqual(['webgpu', 'node', 'wasm', 'cpu']);
    // onnxruntime-node, for --runtime onnx: its CPU execution provider ships in the npm package.
    expect(report.onnxRuntime.version).toMatch(/^\d+\.\d+/);
    expect(report.onnxRuntime.providers).toContainEqual(expect.objectContaining({ name: 'cpu', works: true }));
  });
});

describe('command discovery', () => {
  it('lists the command groups that installed packages declare', () => {
    const r = introdl(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/doctor/);
    expect(r.stdout).toMatch(/core\s+the shared core/);
  });
});

describe('bad input gives one clear error and a non-zero exit', () => {
  it('an unknown backend', () => {
    const r = introdl(['core', 'demo', '--backend', 'quantum']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown backend "quantum": use one of auto, webgpu, node, wasm, cpu/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a backend that is not available here', () => {
    const r = introdl(['core', 'demo', '--backend', 'node']);
    if (r.stderr.includes('backend node (')) return; // tfjs-node really is installed on this machine
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: backend "node" is not available here: not installed.*introdl doctor/);
  });

  it('a missing data folder', () => {
    const out = path.join(tmp(), 'run');
    const r = introdl(['core', 'demo', '--data', '/nonexistent/fashion', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*\/nonexistent\/fashion/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false); // nothing half-written
  });

  it('a corrupt IDX file', () => {
    const data = tmp();
    for (const f of [
      'train-images-idx3-ubyte.gz',
      'train-labels-idx1-ubyte.gz',
      't10k-images-idx3-ubyte.gz',
      't10k-labels-idx1-ubyte.gz',
    ]) {
      writeFileSync(path.join(data, f), Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]));
    }
    const out = path.join(tmp(), 'run');
    const r = introdl(['core', 'demo', '--data', data, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*train-(images|labels)-idx\d-ubyte\.gz: .*(gzip|corrupt)/i);
    expect(existsSync(out)).toBe(false);
  });

  it('a bad number', () => {
    const r = introdl(['core', 'demo', '--epochs', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/must be an integer, got "many"/);
  });

  it('with --debug the stack is shown', () => {
    const r = introdl(['core', 'demo', '--data', '/nonexistent/fashion', '--debug']);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('introdl core demo', () => {
  it('trains twice, writes both runs, plots and a summary (a small run)', () => {
    const out = path.join(tmp(), 'demo');
    const r = introdl([
      'core',
      'demo',
      '--seed',
      '3',
      '--out',
      out,
      '--train-size',
      '200',
      '--validation-size',
      '300',
      '--epochs',
      '4',
      '--backend',
      'wasm',
    ]);
    expect(r.code, r.all).toBe(0);
    expect(r.stderr).toMatch(/^backend wasm \(WebAssembly/m);
    expect(r.stdout).toMatch(/no regularisation: +accuracy \d+\.\d%/);
    for (const f of ['plain-loss.svg', 'plain-loss.png', 'regularized-loss.svg', 'regularized-loss.png']) {
      expect(existsSync(path.join(out, 'outputs', f)), f).toBe(true);
    }
    const parent = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8'));
    expect(parent.status).toBe('completed');
    expect(parent.seed).toBe(3);
    expect(parent.backend).toBe('wasm');
    for (const kind of ['plain', 'regularized']) {
      const run = JSON.parse(readFileSync(path.join(out, kind, 'run.json'), 'utf8'));
      expect(run.status).toBe('completed');
      const lines = readFileSync(path.join(out, kind, 'log.jsonl'), 'utf8')
        .trim()
        .split('\n');
      expect(lines.length).toBeGreaterThan(3);
      expect(JSON.parse(lines[0])).toMatchObject({ step: 1 });
    }
  });

  it('is reproducible with --seed', () => {
    const args = [
      'core',
      'demo',
      '--train-size',
      '100',
      '--validation-size',
      '100',
      '--epochs',
      '2',
      '--backend',
      'cpu',
    ];
    const a = introdl([...args, '--seed', '5', '--out', path.join(tmp(), 'a')]);
    const b = introdl([...args, '--seed', '5', '--out', path.join(tmp(), 'b')]);
    expect(a.code, a.all).toBe(0);
    expect(a.stdout.replace(/Run folder.*|Plots.*/g, '')).toBe(b.stdout.replace(/Run folder.*|Plots.*/g, ''));
  });
});
