import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { restoreCompactModel } from '@introdl/lab2-vision';
import type { ChatRequest, FaceBox, RgbaImage, Studio } from '@introdl/studio';
import { startStudio } from '@introdl/studio';
import { appendLogStep, makeRunsFolder } from '@introdl/studio/test-support';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../cli/run-cli.js';
import { ARTIFACTS, fitsViewport, HAS_CHROMIUM, openBrowser, unlabelledControls } from './browser.js';

/** The course's astronaut.png, or scikit-image's copy of the same photo (Debian python3-skimage). */
function findAstronaut(): string | undefined {
  const candidates = [
    process.env.ASTRONAUT_PNG,
    process.env.INTRODL_DATA && path.join(process.env.INTRODL_DATA, 'lab2-faces', 'nonface-cc0', 'astronaut.png'),
    '/usr/lib/python3/dist-packages/skimage/data/astronaut.png',
  ];
  return candidates.find((p): p is string => Boolean(p && existsSync(p)));
}
const ASTRONAUT = findAstronaut();
/** The astronaut's face (eyebrows to chin), labelled by hand on the 512×512 photo. */
const ASTRONAUT_FACE = { x: 175, y: 75, width: 100, height: 105 };

/**
 * A trained Lab 2 run folder (runs/lab2-vision/<name>) for the real detector's agreement test:
 * INTRODL_LAB2_RUN, else the compact copy of a classifier trained with the defaults that is checked
 * in (fixtures/lab2-classifier.int8, made by make-lab2-model.ts), restored into a run folder.
 */
const LAB2_RUN = process.env.INTRODL_LAB2_RUN;
const LAB2_MODEL = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'lab2-classifier.int8');

const CHAT_REPLY = ['Paris, ', 'the capital ', 'of France, ', 'it is. ', 'Hmm.'];

/** Stand-in for Lab 3's chatStream until the lab exports it: a fixed reply, piece by piece. */
async function* chatStandIn(request: ChatRequest): AsyncIterable<string> {
  for (const piece of CHAT_REPLY) {
    if (request.signal.aborted) return;
    await new Promise((r) => setTimeout(r, 120));
    yield piece;
  }
}

const detectCalls: { width: number; height: number; bytes: number }[] = [];
/**
 * Stand-in for Lab 2's detectFaces until the lab exports it: a real sliding window over the pixels
 * sent, scoring each window by its mean brightness (not a face classifier), keeping the best one.
 */
async function detectStandIn(image: RgbaImage): Promise<FaceBox[]> {
  detectCalls.push({ width: image.width, height: image.height, bytes: image.data.length });
  const size = Math.floor(Math.min(image.width, image.height) / 2);
  let best: FaceBox | undefined;
  for (let y = 0; y + size <= image.height; y += size / 2) {
    for (let x = 0; x + size <= image.width; x += size / 2) {
      let sum = 0;
      for (let j = y; j < y + size; j += 4)
        for (let i = x; i < x + size; i += 4) sum += image.data[(j * image.width + i) * 4];
      const pFace = sum / (Math.ceil(size / 4) ** 2 * 255);
      if (!best || pFace > best.pFace) best = { x, y, width: size, height: size, pFace };
    }
  }
  return best ? [best] : [];
}

function iou(a: { x: number; y: number; width: number; height: number }, b: typeof a): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

async function boxesOf(page: Page, testid: string) {
  return page.$$eval(`[data-testid="${testid}"] li`, (items) =>
    items.map((li) => ({
      x: Number(li.getAttribute('data-x')),
      y: Number(li.getAttribute('data-y')),
      width: Number(li.getAttribute('data-w')),
      height: Number(li.getAttribute('data-h')),
      score: Number(li.getAttribute('data-score')),
      text: li.textContent ?? '',
    })),
  );
}

describe.skipIf(!HAS_CHROMIUM)('the studio in a browser (chromium)', () => {
  let studio: Studio;
  let runs: ReturnType<typeof makeRunsFolder>;
  let browser: Awaited<ReturnType<typeof openBrowser>>;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    runs = makeRunsFolder();
    studio = await startStudio({
      runsDir: runs.root,
      labs: { views: {}, chatStream: chatStandIn, detectFaces: detectStandIn },
    });
    browser = await openBrowser(studio.url.replace(/\/$/, ''));
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    await studio?.close();
  });

  it('lists the runs with their status, and works at 1280×800 and 390×844', async () => {
    await page.goto(`${studio.url}#/runs`);
    await page.waitForSelector('table tbody tr');
    const rows = await page.$$eval('tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    expect(rows).toHaveLength(4);
    expect(rows.join('\n')).toMatch(/lab1-music\s*quick\s*lab1 train\s*completed/);
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await fitsViewport(page)).toBe(true);
    await shot('runs-1280x800');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsViewport(page)).toBe(true);
    await shot('runs-390x844');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('draws the loss curve live as the trainer appends to log.jsonl (server-sent events)', async () => {
    await page.goto(`${studio.url}#/runs/lab1-music/live`);
    await page.waitForSelector('[data-testid="steps"]');
    expect(await page.textContent('[data-testid="steps"]')).toMatch(/No steps|0 steps/);
    expect(await page.textContent('pre')).toContain('"preset": "quick"');
    for (let step = 1; step <= 6; step++) {
      appendLogStep(runs.liveRun, step);
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.waitForFunction(() =>
      /^6 steps logged/.test(document.querySelector('[data-testid="steps"]')?.textContent ?? ''),
    );
    expect(await page.getAttribute('path[data-series="loss"]', 'data-points')).toBe('6');
    expect(await page.getAttribute('path[data-series="valLoss"]', 'data-points')).toBe('6');
    const runJson = path.join(runs.liveRun, 'run.json');
    writeFileSync(runJson, JSON.stringify({ ...JSON.parse(readFileSync(runJson, 'utf8')), status: 'completed' }));
    await page.waitForSelector('[data-status="completed"]');
    await shot('run-live-loss');
  });

  it('shows each song as sheet music with its validity, and plays it through Tone.js from the keyboard', async () => {
    await page.goto(`${studio.url}#/lab1`);
    await page.waitForSelector('article.song >> nth=2');
    const good = page.locator('article[data-song="outputs/songs/song-01.abc"]');
    const bad = page.locator('article[data-song="outputs/hand-written.abc"]');
    const rejected = page.locator('article[data-song="song 2"]');
    expect(await good.locator('[data-testid="validity"]').textContent()).toBe('valid');
    expect(await good.locator('[data-testid="reason"]').textContent()).toMatch(/checked by the lab/);
    expect(await good.locator('.sheet svg').count()).toBe(1);
    expect(await good.locator('.sheet svg .abcjs-note').count()).toBeGreaterThan(20);
    expect(await bad.locator('[data-testid="validity"]').textContent()).toBe('invalid');
    expect(await bad.locator('[data-testid="reason"]').textContent()).toMatch(/\S+.*checked by the studio/);
    expect(await rejected.locator('[data-testid="reason"]').textContent()).toMatch(/^no K: line — checked by the lab/);
    expect(await good.locator('a', { hasText: 'ABC' }).getAttribute('href')).toBe(
      '/runs/lab1-music/quick/outputs/songs/song-01.abc',
    );
    expect(await good.locator('a', { hasText: 'MIDI' }).getAttribute('href')).toBe(
      '/runs/lab1-music/quick/outputs/songs/song-01.mid',
    );
    expect(await unlabelledControls(page)).toEqual([]);

    // Keyboard only: Tab from the top of the page until the song's Play button has focus, then Enter.
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(
        () => document.activeElement?.getAttribute('aria-label') === 'Play Studio Test Reel',
      );
    }
    expect(reached).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => {
      const a = (window as unknown as { __studioAudio: { transportState(): string; triggered: number } }).__studioAudio;
      return a.transportState() === 'started' && a.triggered >= 3;
    });
    const audio = await page.evaluate(() => {
      const a = (
        window as unknown as {
          __studioAudio: { scheduled: number; triggered: number; contextState(): string; bpm(): number };
        }
      ).__studioAudio;
      return { scheduled: a.scheduled, triggered: a.triggered, context: a.contextState(), bpm: a.bpm() };
    });
    expect(audio.context).toBe('running');
    expect(audio.scheduled).toBe(50); // the reel has 25 notes and a repeat
    expect(audio.bpm).toBeCloseTo(140, 0);
    expect(await good.locator('[data-testid="play-state"]').textContent()).toBe('playing');
    // Tempo from the keyboard: Tab to the slider, five steps right.
    await page.keyboard.press('Tab');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    expect(
      await page.evaluate(() => (window as unknown as { __studioAudio: { bpm(): number } }).__studioAudio.bpm()),
    ).toBeCloseTo(145, 0);
    await shot('lab1-playing');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter'); // Pause
    await page.waitForFunction(
      () =>
        (window as unknown as { __studioAudio: { transportState(): string } }).__studioAudio.transportState() ===
        'paused',
    );
    expect(await good.locator('[data-testid="play-state"]').textContent()).toBe('paused');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsViewport(page)).toBe(true);
    await shot('lab1-390x844');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it.skipIf(!ASTRONAUT)(
    `finds the face in astronaut.png with MediaPipe and shows the lab detector's boxes with P(face)${ASTRONAUT ? '' : ' (skipped: no astronaut.png; install python3-skimage or set ASTRONAUT_PNG)'}`,
    async () => {
      await page.goto(`${studio.url}#/lab2`);
      await page.waitForSelector('input[type="file"]');
      expect(await unlabelledControls(page)).toEqual([]);
      await page.setInputFiles('input[type="file"]', ASTRONAUT as string);
      await page.waitForFunction(
        () => /^Done/.test(document.querySelector('[data-testid="lab2-status"]')?.textContent ?? ''),
        null,
        { timeout: 60_000 },
      );
      const mp = await boxesOf(page, 'mp-boxes');
      expect(mp.length).toBeGreaterThanOrEqual(1);
      expect(mp[0].score).toBeGreaterThan(0.8);
      expect(iou(mp[0], ASTRONAUT_FACE)).toBeGreaterThanOrEqual(0.5);
      // The lab detector got the image's exact pixels and its boxes are drawn with P(face).
      expect(detectCalls.at(-1)).toEqual({ width: 512, height: 512, bytes: 512 * 512 * 4 });
      const lab = await boxesOf(page, 'lab-boxes');
      expect(lab.length).toBe(1);
      expect(lab[0].text).toMatch(/^P\(face\) 0\.\d\d at x \d+, y \d+/);
      expect(await page.getAttribute('[data-testid="iou"]', 'data-iou')).toMatch(/^\d\.\d{4}$/);
      await shot('lab2-astronaut');
    },
  );

  it('charts the bias report per group with intervals, and takes a webcam picture', async () => {
    await page.goto(`${studio.url}#/lab2`);
    await page.waitForSelector('#bias-h');
    expect(await page.locator('svg.chart circle[data-model="CNN"]').count()).toBe(4);
    expect(await page.locator('svg.chart circle[data-model="DB-VAE"]').count()).toBe(4);
    await page.getByRole('button', { name: 'Use webcam' }).press('Enter');
    await page.waitForFunction(
      () => ((document.querySelector('video') as HTMLVideoElement | null)?.videoWidth ?? 0) > 0,
    );
    // Focus moved to the capture button, so Enter takes the picture.
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      () => /^Done/.test(document.querySelector('[data-testid="lab2-status"]')?.textContent ?? ''),
      null,
      { timeout: 60_000 },
    );
    expect(await page.locator('[data-testid="mp-error"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Stop webcam' }).click();
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsViewport(page)).toBe(true);
    await shot('lab2-390x844');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('streams the chat reply token by token, and draws the judge-score histogram', async () => {
    await page.goto(`${studio.url}#/lab3`);
    await page.waitForSelector('textarea');
    expect(await unlabelledControls(page)).toEqual([]);
    expect(await page.locator('svg.chart rect[data-set="style"]').count()).toBeGreaterThan(0);
    await page.getByLabel('Model').selectOption('tuned');
    await page.getByLabel('Message').fill('What is the capital of France?');
    await page.getByLabel('Message').press('Enter');
    // Part of the reply is on the page while the rest is still being generated.
    await page.waitForFunction(() => {
      const pieces = Number(document.querySelector('[data-testid="reply"]')?.getAttribute('data-pieces') ?? 0);
      return (
        pieces >= 1 && pieces < 5 && !document.querySelector('[data-testid="reply-state"]')?.hasAttribute('data-done')
      );
    });
    await page.waitForSelector('[data-testid="reply-state"][data-done]');
    expect(await page.textContent('[data-testid="reply"]')).toBe(CHAT_REPLY.join(''));
    expect(await page.textContent('[data-testid="reply-state"]')).toBe(' (5 pieces)');
    expect(await page.textContent('[data-testid="chat-log"]')).toMatch(
      /^You:What is the capital of France\?Tuned:Paris/,
    );
    await shot('lab3-chat');
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await fitsViewport(page)).toBe(true);
    await shot('lab3-390x844');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  describe.skipIf(!ASTRONAUT)("the lab's own detector, trained on the course data", () => {
    let runDir: string;
    beforeAll(async () => {
      if (LAB2_RUN) {
        runDir = path.resolve(LAB2_RUN);
        return;
      }
      const runs = path.join(mkdtempSync(path.join(os.tmpdir(), 'introdl-studio-lab2-')), 'runs');
      runDir = await restoreCompactModel(LAB2_MODEL, path.join(runs, 'lab2-vision', 'classifier'));
    }, 120_000);

    it("draws its box on astronaut.png where MediaPipe's is (IoU ≥ 0.5), with P(face)", async () => {
      const real = await startStudio({ runsDir: path.dirname(path.dirname(runDir)) });
      const own = await openBrowser(real.url.replace(/\/$/, ''));
      try {
        await own.page.goto(`${real.url}#/lab2`);
        await own.page.getByLabel('Classifier run').selectOption(`lab2-vision/${path.basename(runDir)}`);
        await own.page.setInputFiles('input[type="file"]', ASTRONAUT as string);
        await own.page.waitForFunction(
          () => /^Done/.test(document.querySelector('[data-testid="lab2-status"]')?.textContent ?? ''),
          null,
          { timeout: 180_000 },
        );
        await own.page.screenshot({ path: path.join(ARTIFACTS, 'lab2-astronaut-real-detector.png'), fullPage: true });
        expect(await own.page.locator('[data-testid="lab-error"]').count()).toBe(0);
        const mp = await boxesOf(own.page, 'mp-boxes');
        const lab = await boxesOf(own.page, 'lab-boxes');
        expect(mp.length).toBeGreaterThanOrEqual(1);
        expect(lab.length).toBeGreaterThanOrEqual(1);
        expect(lab[0].text).toMatch(/^P\(face\) (0\.\d\d|1\.00) at x \d+, y \d+/);
        // The page compares the best box of each: the lab's best box is the astronaut's face.
        expect(iou(lab[0], mp[0])).toBeGreaterThanOrEqual(0.5);
        expect(Number(await own.page.getAttribute('[data-testid="iou"]', 'data-iou'))).toBeGreaterThanOrEqual(0.5);
        expect(own.blocked).toEqual([]);
      } finally {
        await own.close();
        await real.close();
      }
    });
  });

  it('never let the page reach anything but the studio server', () => {
    expect(browser.blocked).toEqual([]);
  });
});

describe('introdl studio serve', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('prints its URL, serves the runs folder and stops cleanly on Ctrl-C', async () => {
    const { root } = makeRunsFolder();
    child = spawn(process.execPath, [BIN, 'studio', 'serve', '--no-open', '--port', '0', '--runs', root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /studio: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearInterval(timer);
          resolve(m[1]);
        }
      }, 50);
      child?.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const body = (await (await fetch(`${url}api/runs`)).json()) as { runs: { id: string }[] };
    expect(body.runs.map((r) => r.id)).toContain('lab1-music/quick');
    const song = await fetch(`${url}runs/lab1-music/quick/outputs/songs/song-01.abc`);
    expect(await song.text()).toMatch(/^X:1/);
    const code = await new Promise<number | null>((resolve) => {
      child?.on('exit', resolve);
      child?.kill('SIGINT');
    });
    expect(code).toBe(0);
  });

  it('refuses a bad --port with one clear error', async () => {
    const r = spawn(process.execPath, [BIN, 'studio', 'serve', '--no-open', '--port', 'abc'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    r.stderr?.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => r.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toMatch(/^error: --port must be an integer, got "abc"/m);
  });
});
