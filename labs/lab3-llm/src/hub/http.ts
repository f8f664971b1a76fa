import { HubError } from './errors.js';

/**
 * The few HTTP exchanges with the hub, over Node's fetch, with redirects handled by hand as
 * huggingface_hub does: relative redirects (a renamed repository) are followed with the same
 * headers; an absolute redirect (large files live on a CDN) is followed without the Authorization
 * header when it leaves the hub's origin.
 */

/** Headers every request carries: the token, and no compression (sizes and hashes are of the file). */
export function hubHeaders(token: string | undefined): Record<string, string> {
  const h: Record<string, string> = { 'user-agent': 'introdl (lab3-llm)', 'accept-encoding': 'identity' };
  if (token) h.authorization = `Bearer ${token}`;
  return h;
}

/** A request failed before any HTTP status: no connection, DNS, reset, timeout. */
export class NetworkError extends HubError {}

function describeCause(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    parts.push(e instanceof Error ? e.message : String(e));
    if (!(e instanceof Error)) break;
  }
  return parts.join(': ');
}

/** Options of {@link request}. */
export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  headers: Record<string, string>;
  /** Follow absolute (CDN) redirects too; HEAD for metadata stops at the first one. */
  followAbsolute: boolean;
  signal?: AbortSignal;
  /** Milliseconds to wait for the response headers (the body can take longer). */
  timeoutMs?: number;
}

/** The final response and the first redirect response (where the hub puts X-Linked-* headers). */
export interface HubResponse {
  response: Response;
  /** The first 3xx answer, if any. */
  redirect?: Response;
  url: string;
}

/**
 * One request with manual redirects: at most 10 hops; relative ones always, absolute ones when
 * `followAbsolute`, dropping Authorization when the origin changes.
 * @throws NetworkError when the server cannot be reached.
 */
export async function request(url: string, options: RequestOptions): Promise<HubResponse> {
  let current = url;
  let headers = { ...options.headers };
  let redirect: Response | undefined;
  for (let hop = 0; hop < 10; hop++) {
    let response: Response;
    // The timeout covers the wait for headers only: a large body may take minutes (the downloader
    // watches for a stalled body itself, through `options.signal`).
    const waiting = new AbortController();
    const timer = setTimeout(
      () => waiting.abort(new Error('no answer within the timeout')),
      options.timeoutMs ?? 30_000,
    );
    try {
      response = await fetch(current, {
        method: options.method ?? 'GET',
        headers,
        redirect: 'manual',
        signal: options.signal ? AbortSignal.any([options.signal, waiting.signal]) : waiting.signal,
      });
    } catch (error) {
      throw new NetworkError(`cannot reach ${new URL(current).origin}: ${describeCause(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || !location) return { response, redirect, url: current };
    redirect ??= response;
    const next = new URL(location, current);
    const relative = !/^[a-z][a-z0-9+.-]*:/i.test(location);
    await response.body?.cancel();
    if (!relative && !options.followAbsolute) return { response, redirect, url: current };
    if (next.origin !== new URL(current).origin) {
      const { authorization: _, ...rest } = headers;
      headers = rest;
    }
    current = next.href;
  }
  throw new HubError(`too many redirects from ${url}`);
}

/** The hub's error headers of a response. */
export function failureOf(response: Response): { status: number; code?: string; message?: string } {
  return {
    status: response.status,
    code: response.headers.get('x-error-code') ?? undefined,
    message: response.headers.get('x-error-message') ?? undefined,
  };
}
