import { BadFlagError, IntrodlError } from '@introdl/core';
import type { JudgePromptParts } from '../data/readers.js';
import { JudgeReplyError, parseJudgeScore } from './judge-parse.js';

/**
 * The LLM judge: any OpenAI-compatible chat-completions endpoint (OpenRouter as in the course,
 * OpenAI, a local vLLM or llama.cpp server). Each text is sent with the judge's system prompt; the
 * reply's `{"score": n}` becomes n/10. Failed calls are retried a bounded number of times, run with
 * a concurrency limit and a timeout each, and are counted and reported — a failure is never turned
 * into a score.
 */

/** The course's judge prompt, written from its description (the exact text is in judge_prompt.json). */
export const DEFAULT_JUDGE_PROMPT: JudgePromptParts = {
  system:
    'You are an impartial judge that evaluates if text was written by {style}.\n\n' +
    'An example piece of text from {style} is:\n{example}\n\n' +
    'Now, analyze some new text carefully and respond on if it follows the same style of {style}. ' +
    'Be critical to identify any issues in the text. Then convert your feedback into a number between 0 and 10: ' +
    '10 if the text is written exactly in the style of {style}, 5 if mixed faithfulness to the style, ' +
    'or 0 if the text is not at all written in the style of {style}.\n\n' +
    'The format of your response should be a JSON dictionary and nothing else:\n{"score": <score between 0 and 10>}',
  user: 'Evaluate this text: {text}',
  example:
    'The very Republic is threatened, if involved the Sith are. Hard to see, the dark side is. ' +
    'Discover who this assassin is, we must. Help you, I can.',
};

/** Fills Python-style `{name}` placeholders. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (m, key: string) => (key in values ? values[key] : m));
}

/** Options of {@link JudgeClient}. */
export interface JudgeOptions {
  /** Base URL of the API, e.g. https://openrouter.ai/api/v1 (…/chat/completions is appended). */
  baseUrl: string;
  apiKey?: string;
  model: string;
  prompt?: JudgePromptParts;
  /** Who the style belongs to, for the prompt. Default "Yoda". */
  style?: string;
  /** Tokens the judge may answer with (the 2026 notebook: 20). */
  maxTokens?: number;
  /** Stop sequences (the 2025 notebook stopped at "}"). */
  stop?: string[];
  temperature?: number;
  /** Attempts per text, the first included (the course tries 20 times; default 3). */
  attempts?: number;
  /** Requests in flight at once (the course used a pool of 10). */
  concurrency?: number;
  /** Per-request timeout in milliseconds. */
  timeoutMs?: number;
  /** Milliseconds before the first retry; doubled each time. */
  backoffMs?: number;
  fetchImpl?: typeof fetch;
}

/** The outcome for one text. */
export interface JudgeResult {
  text: string;
  /** The score in [0, 1], absent when every attempt failed. */
  score?: number;
  attempts: number;
  /** The last reply content (for inspection). */
  reply?: string;
  /** Why the text has no score. */
  error?: string;
}

/** Scores of a set of texts, with the failures counted. */
export interface JudgeReport {
  results: JudgeResult[];
  scores: number[];
  failures: number;
  /** Failure reasons and how often each occurred. */
  failureReasons: Record<string, number>;
}

/** The API refused the credentials or the request: no retry will help. */
export class JudgeConfigError extends IntrodlError {}

class RetryableError extends Error {}

/** A client for an OpenAI-compatible judge. */
export class JudgeClient {
  private readonly options: Required<Omit<JudgeOptions, 'apiKey' | 'stop' | 'temperature' | 'fetchImpl'>> &
    Pick<JudgeOptions, 'apiKey' | 'stop' | 'temperature' | 'fetchImpl'>;

  constructor(options: JudgeOptions) {
    if (!options.baseUrl) throw new BadFlagError('the judge needs a base URL (--judge-url or JUDGE_BASE_URL)');
    if (!options.model) throw new BadFlagError('the judge needs a model name (--judge-model or JUDGE_MODEL)');
    this.options = {
      prompt: DEFAULT_JUDGE_PROMPT,
      style: 'Yoda',
      maxTokens: 20,
      attempts: 3,
      concurrency: 4,
      timeoutMs: 30_000,
      backoffMs: 500,
      ...options,
    };
    if (!(this.options.attempts >= 1)) throw new BadFlagError('judge attempts must be ≥ 1');
    if (!(this.options.concurrency >= 1)) throw new BadFlagError('judge concurrency must be ≥ 1');
  }

  /** The system prompt with the style and example filled in. */
  systemPrompt(): string {
    const { prompt, style } = this.options;
    return fillTemplate(prompt.system, { style, example: prompt.example ?? DEFAULT_JUDGE_PROMPT.example ?? '' });
  }

  /** One chat-completions call; returns the reply content. */
  async ask(text: string): Promise<string> {
    const o = this.options;
    const url = `${o.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const body: Record<string, unknown> = {
      model: o.model,
      messages: [
        { role: 'system', content: this.systemPrompt() },
        { role: 'user', content: fillTemplate(o.prompt.user, { text }) },
      ],
      max_tokens: o.maxTokens,
    };
    if (o.stop) body.stop = o.stop;
    if (o.temperature !== undefined) body.temperature = o.temperature;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), o.timeoutMs);
    let response: Response;
    try {
      response = await (o.fetchImpl ?? fetch)(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const raw = await response.text();
      if (response.status === 401 || response.status === 403) {
        throw new JudgeConfigError(
          `the judge at ${url} refused the API key (HTTP ${response.status}): set --judge-key or JUDGE_API_KEY`,
        );
      }
      if (response.status === 404 || response.status === 400) {
        throw new JudgeConfigError(
          `the judge at ${url} rejected the request (HTTP ${response.status}): ${raw.slice(0, 200)}`,
        );
      }
      if (!response.ok) throw new RetryableError(`HTTP ${response.status}`);
      let json: { choices?: { message?: { content?: unknown } }[] };
      try {
        json = JSON.parse(raw);
      } catch {
        throw new RetryableError('the response is not JSON');
      }
      const content = json.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new RetryableError('the response has no choices[0].message.content');
      return content;
    } catch (err) {
      if (controller.signal.aborted) throw new RetryableError(`timed out after ${o.timeoutMs} ms`);
      if (err instanceof JudgeConfigError || err instanceof RetryableError) throw err;
      throw new RetryableError(`network error: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Scores one text, retrying failed calls and unparseable replies. */
  async score(text: string): Promise<JudgeResult> {
    const o = this.options;
    let last: string | undefined;
    let reply: string | undefined;
    for (let attempt = 1; attempt <= o.attempts; attempt++) {
      try {
        reply = await this.ask(text);
        return { text, score: parseJudgeScore(reply), attempts: attempt, reply };
      } catch (err) {
        if (err instanceof JudgeConfigError) throw err;
        last = err instanceof JudgeReplyError ? `unparseable reply (${err.message})` : (err as Error).message;
        if (attempt < o.attempts) await new Promise((r) => setTimeout(r, o.backoffMs * 2 ** (attempt - 1)));
      }
    }
    return { text, attempts: o.attempts, reply, error: last };
  }

  /** Scores many texts with at most `concurrency` requests in flight. */
  async scoreAll(texts: readonly string[], onResult?: (r: JudgeResult, index: number) => void): Promise<JudgeReport> {
    const results = new Array<JudgeResult>(texts.length);
    let next = 0;
    let fatal: unknown;
    const worker = async () => {
      while (next < texts.length && fatal === undefined) {
        const i = next++;
        try {
          results[i] = await this.score(texts[i]);
          onResult?.(results[i], i);
        } catch (err) {
          fatal = err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, texts.length) }, worker));
    if (fatal !== undefined) throw fatal;
    const failureReasons: Record<string, number> = {};
    for (const r of results) {
      if (r.error) {
        const reason = r.error.replace(/: .*$/, '');
        failureReasons[reason] = (failureReasons[reason] ?? 0) + 1;
      }
    }
    return {
      results,
      scores: results.filter((r) => r.score !== undefined).map((r) => r.score as number),
      failures: results.filter((r) => r.score === undefined).length,
      failureReasons,
    };
  }
}

/** Judge settings from flags, then the environment (JUDGE_BASE_URL, JUDGE_API_KEY or OPENROUTER_API_KEY, JUDGE_MODEL). */
export function judgeSettings(
  flags: { judgeUrl?: string; judgeKey?: string; judgeModel?: string },
  env: Readonly<Record<string, string | undefined>> = process.env,
): { baseUrl: string; apiKey?: string; model: string } {
  return {
    baseUrl: flags.judgeUrl ?? env.JUDGE_BASE_URL ?? 'https://openrouter.ai/api/v1',
    apiKey: flags.judgeKey ?? env.JUDGE_API_KEY ?? env.OPENROUTER_API_KEY ?? env.OPENAI_API_KEY,
    model: flags.judgeModel ?? env.JUDGE_MODEL ?? 'google/gemini-2.5-flash',
  };
}
