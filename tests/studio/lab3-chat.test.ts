import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { useBackend } from '@introdl/core';
import { type Studio, startStudio } from '@introdl/studio';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { introdl } from '../cli/run-cli.js';
import { ARTIFACTS, fitsViewport, HAS_CHROMIUM, openBrowser } from './browser.js';

/**
 * The studio's Lab 3 page with the real lab: a style adapter trained here by `introdl lab3 train`
 * (a CI-sized run of the default recipe on the course data), then chatted with in chromium. The
 * tuned reply must be the one `introdl lab3 chat` gives with the same adapter, and not the base
 * model's. Needs the course data (CI sets INTRODL_DATA; without it the suite is skipped, never in CI).
 */
const DATA = process.env.INTRODL_DATA;
const HAVE_DATA = Boolean(DATA && existsSync(path.join(DATA, 'lab3-llm', 'stories260K.bin')));
if (DATA && !HAVE_DATA) throw new Error(`INTRODL_DATA=${DATA} has no lab3-llm/stories260K.bin`);

const QUESTION = 'What is the capital of France?';
const MAX_TOKENS = 40;

describe.skipIf(!HAS_CHROMIUM || !HAVE_DATA)('the studio chats with a Lab 3 adapter trained on the course data', () => {
  const runsDir = path.join(os.tmpdir(), `introdl-studio-lab3-${process.pid}`);
  const runDir = path.join(runsDir, 'lab3-llm', 'ci-yoda');
  let studio: Studio;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  let cliTuned = '';
  let cliBase = '';
  let pieces = 0;

  beforeAll(async () => {
    mkdirSync(runsDir, { recursive: true });
    const train = introdl(
      [
        'lab3',
        'train',
        '--model',
        'stories260K',
        '--steps',
        '40',
        '--lr',
        '1e-3',
        '--validate-every',
        '20',
        '--held-out',
        '0.01',
        '--sample-every',
        '0',
        '--out',
        runDir,
      ],
      { timeout: 300_000 },
    );
    expect(train.code, train.stderr).toBe(0);
    const chat = (adapter: string[]) =>
      introdl([
        'lab3',
        'chat',
        '--model',
        'stories260K',
        ...adapter,
        '--question',
        QUESTION,
        '--temperature',
        '0',
        '--max-tokens',
        String(MAX_TOKENS),
        '--out',
        path.join(runsDir, 'chats', String(adapter.length)),
      ]);
    const tuned = chat(['--adapter', runDir]);
    expect(tuned.code, tuned.stderr).toBe(0);
    cliTuned = tuned.stdout.trim();
    const base = chat([]);
    expect(base.code, base.stderr).toBe(0);
    cliBase = base.stdout.trim();
    // The three scored sets and the untuned model's answers, as `introdl lab3 score` writes them.
    const score = introdl(
      ['lab3', 'score', '--model', 'stories260K', '--adapter', runDir, '--n', '4', '--max-tokens', '24'],
      { env: { INTRODL_RUNS: runsDir } },
    );
    expect(score.code, score.stderr).toBe(0);
    // The studio generates in this process: the same backend as the CLI's auto choice here.
    await useBackend('wasm');
    studio = await startStudio({ runsDir });
    browser = await openBrowser(studio.url.replace(/\/$/, ''));
    page = browser.page;
  }, 400_000);

  afterAll(async () => {
    await browser?.close();
    await studio?.close();
  });

  async function ask(model: 'base' | 'tuned'): Promise<string> {
    await page.goto(`${studio.url}#/lab3`);
    await page.waitForSelector('textarea');
    await page.getByLabel('Model').selectOption(model);
    await page.getByLabel('Run').selectOption('lab3-llm/ci-yoda');
    await page.getByLabel('Temperature').fill('0');
    await page.getByLabel('Max new tokens').fill(String(MAX_TOKENS));
    await page.getByLabel('Message').fill(QUESTION);
    await page.getByLabel('Message').press('Enter');
    // The page keeps the conversation: this question's reply is the last one.
    const state = page.locator('[data-testid="reply-state"]').last();
    await state.and(page.locator('[data-done]')).waitFor({ timeout: 60_000 });
    expect(await state.textContent()).toMatch(/^ \(\d+ pieces\)$/);
    const reply = page.locator('[data-testid="reply"]').last();
    pieces = Number(await reply.getAttribute('data-pieces'));
    return ((await reply.textContent()) ?? '').trim();
  }

  it('streams the tuned reply: the one `introdl lab3 chat --adapter <run>` gives, unlike the base model', async () => {
    expect(cliTuned).not.toBe(cliBase);
    const tuned = await ask('tuned');
    await page.screenshot({ path: path.join(ARTIFACTS, 'lab3-chat-tuned.png'), fullPage: true });
    expect(tuned).toBe(cliTuned);
    expect(pieces).toBeGreaterThan(1);
    const base = await ask('base');
    expect(base).toBe(cliBase);
    expect(await fitsViewport(page)).toBe(true);
    expect(browser.blocked).toEqual([]);
  });

  it("draws the histogram of `introdl lab3 score`'s sets", async () => {
    await page.goto(`${studio.url}#/runs`);
    await page.goto(`${studio.url}#/lab3`);
    await page.waitForSelector('#scores-h');
    for (const set of ['Base', 'Generated (no adapter)', 'Generated', 'Style'])
      expect(await page.locator(`svg.chart rect[data-set="${set}"]`).count(), set).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'lab3-scores.png'), fullPage: true });
  });
});
