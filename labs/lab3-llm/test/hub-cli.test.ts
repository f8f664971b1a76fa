import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tmpDir } from './helpers.js';

/** `introdl lab3 generate --model <org/name>` offline with an empty cache, through the real CLI (build first). */
const here = path.dirname(fileURLToPath(import.meta.url));
const bin = path.resolve(here, '../../../packages/cli/dist/bin.js');
const built = existsSync(bin) && existsSync(path.resolve(here, '../dist/commands.js'));

describe.skipIf(!built)('introdl lab3 with a hub model name', () => {
  it('HF_HUB_OFFLINE=1 and no cache: exit 1 and one line saying what is missing and how to get it', async () => {
    const cache = tmpDir();
    const r = await promisify(execFile)(
      process.execPath,
      [bin, 'lab3', 'generate', '--model', 'HuggingFaceTB/SmolLM2-135M-Instruct', '--backend', 'cpu'],
      {
        encoding: 'utf8',
        env: { ...process.env, HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache, HF_ENDPOINT: 'http://127.0.0.1:9' },
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `error: HuggingFaceTB/SmolLM2-135M-Instruct is not in the Hugging Face cache (${path.join(cache, 'models--HuggingFaceTB--SmolLM2-135M-Instruct')}) and HF_HUB_OFFLINE=1 forbids downloading it`,
    );
    expect(lines[0]).toMatch(/hf download HuggingFaceTB\/SmolLM2-135M-Instruct`, or pass --model <folder>$/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
