import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JudgeClient, JudgeConfigError, judgeSettings, parseJudgeScore } from '../src/index.js';

/**
 * A fake OpenAI-compatible server on 127.0.0.1. The text to judge says how to behave:
 * "good:7" answers {"score": 7}; "cut:8" answers the 2025 stop-sequence form {"score": 8;
 * "garbage" answers prose; "badjson" answers a non-JSON body; "fail-once:6" answers 500 the first
 * time; "slow" answers after 2 s; "auth" answers 401; "flaky-format:9" answers prose then a score.
 */
let server: Server;
let base: string;
const seen = new Map<string, number>();
let inFlight = 0;
let maxInFlight = 0;
const requests: Record<string, unknown>[] = [];

function reply(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

const completion = (content: string) => JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });

async function handle(req: IncomingMessage, res: ServerResponse) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const body = JSON.parse(raw);
  requests.push({ ...body, auth: req.headers.authorization, url: req.url });
  const text: string = body.messages[1].content.replace('Evaluate this text: ', '');
  const count = (seen.get(text) ?? 0) + 1;
  seen.set(text, count);
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  await new Promise((r) => setTimeout(r, text === 'slow' ? 2000 : 30));
  inFlight--;
  const [kind, value] = text.split(':');
  if (kind === 'good') return reply(res, 200, completion(`{"score": ${value}}`));
  if (kind === 'cut') return reply(res, 200, completion(`{"score": ${value}`));
  if (kind === 'garbage') return reply(res, 200, completion('This text is rather Yoda-like, I would say.'));
  if (kind === 'badjson') return reply(res, 200, '<html>oops</html>');
  if (kind === 'fail-once')
    return count === 1 ? reply(res, 500, '{}') : reply(res, 200, completion(`{"score": ${value}}`));
  if (kind === 'flaky-format')
    return reply(res, 200, completion(count === 1 ? 'Score: high' : `Sure! {"score": ${value}}`));
  if (kind === 'auth') return reply(res, 401, '{"error": "bad key"}');
  if (kind === 'slow') return reply(res, 200, completion('{"score": 10}'));
  return reply(res, 200, completion('{"score": "ten"}'));
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const judge = (extra = {}) =>
  new JudgeClient({ baseUrl: base, apiKey: 'test-key', model: 'judge-model', backoffMs: 1, timeoutMs: 500, ...extra });

describe('parseJudgeScore', () => {
  it('reads {"score": n} as n/10 clipped to [0, 1]; re-closes a reply cut at "}"', () => {
    expect(parseJudgeScore('{"score": 7}')).toBeCloseTo(0.7);
    expect(parseJudgeScore('Here you go: {"score": 10}')).toBe(1);
    expect(parseJudgeScore('{"score": 8')).toBeCloseTo(0.8);
    expect(parseJudgeScore('{"score": 15}')).toBe(1);
    expect(parseJudgeScore('{"score": -2}')).toBe(0);
    expect(parseJudgeScore('{"score": "6"}')).toBeCloseTo(0.6);
  });

  it('anything else is an error, never a score', () => {
    expect(() => parseJudgeScore('quite Yoda-like')).toThrow(/no JSON object/);
    expect(() => parseJudgeScore('{"score": "ten"}')).toThrow(/not a number/);
    expect(() => parseJudgeScore('{"grade": 5}')).toThrow(/not a number/);
    expect(() => parseJudgeScore('{score: 5}')).toThrow(/not valid JSON/);
  });
});

describe('JudgeClient against a local OpenAI-compatible server', () => {
  it('sends the system prompt, the user template, the model, max_tokens and the key', async () => {
    requests.length = 0;
    const r = await judge().score('good:7');
    expect(r.score).toBeCloseTo(0.7);
    expect(r.attempts).toBe(1);
    const body = requests[0] as {
      model: string;
      max_tokens: number;
      messages: { role: string; content: string }[];
      auth: string;
      url: string;
    };
    expect(body.url).toBe('/v1/chat/completions');
    expect(body.model).toBe('judge-model');
    expect(body.max_tokens).toBe(20);
    expect(body.auth).toBe('Bearer test-key');
    expect(body.messages[0].role).toBe('system');
    expect(body.messages[0].content).toMatch(/impartial judge that evaluates if text was written by Yoda/);
    expect(body.messages[1]).toEqual({ role: 'user', content: 'Evaluate this text: good:7' });
  });

  it('retries server errors and unparseable replies, within the attempt bound', async () => {
    expect((await judge().score('fail-once:6')).score).toBeCloseTo(0.6);
    const flaky = await judge().score('flaky-format:9');
    expect(flaky).toMatchObject({ attempts: 2 });
    expect(flaky.score).toBeCloseTo(0.9);
    seen.delete('garbage');
    const garbage = await judge({ attempts: 3 }).score('garbage');
    expect(garbage.score).toBeUndefined();
    expect(garbage.attempts).toBe(3);
    expect(seen.get('garbage')).toBe(3);
    expect(garbage.error).toMatch(/unparseable reply/);
  });

  it('times out slow replies and counts malformed ones as failures in a report', async () => {
    const report = await judge({ attempts: 2, timeoutMs: 300 }).scoreAll([
      'good:5',
      'slow',
      'badjson',
      'cut:8',
      'nonsense',
    ]);
    expect(report.scores.map((s) => Math.round(s * 10))).toEqual([5, 8]);
    expect(report.failures).toBe(3);
    expect(report.results[1].error).toMatch(/timed out after 300 ms/);
    expect(report.results[2].error).toMatch(/not JSON/);
    expect(report.results[4].error).toMatch(/not a number/);
    expect(Object.values(report.failureReasons).reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    // the server may still be sleeping on requests the client timed out on earlier
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
    maxInFlight = 0;
    const texts = Array.from({ length: 12 }, (_, i) => `good:${i % 10}`);
    const report = await judge({ concurrency: 3 }).scoreAll(texts);
    expect(report.scores.length).toBe(12);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBeGreaterThan(1);
  });

  it('stops at once when the key is refused', async () => {
    await expect(judge().scoreAll(['good:1', 'auth', 'good:2'])).rejects.toBeInstanceOf(JudgeConfigError);
  });

  it('reads its settings from flags, then the environment', () => {
    expect(judgeSettings({}, { OPENROUTER_API_KEY: 'k1' })).toEqual({
      baseUrl: 'https://openrouter.ai/api/v1',
      apiKey: 'k1',
      model: 'google/gemini-2.5-flash',
    });
    expect(
      judgeSettings(
        { judgeModel: 'm' },
        { JUDGE_BASE_URL: 'http://x/v1', JUDGE_API_KEY: 'k2', OPENROUTER_API_KEY: 'k1' },
      ),
    ).toEqual({
      baseUrl: 'http://x/v1',
      apiKey: 'k2',
      model: 'm',
    });
  });
});
