import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The Hugging Face hub settings, read from the environment exactly as `huggingface_hub` reads them
 * (its constants.py), so that Python and introdl share one cache, one token and one offline switch.
 */

/** A variable set to a true value as huggingface_hub understands it (1, ON, YES, TRUE). */
function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.toUpperCase());
}

/** The hub's address: `HF_ENDPOINT`, else https://huggingface.co (without a trailing slash). */
export function hubEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HOME) return expand(env.HF_HOME);
  const xdg = env.XDG_CACHE_HOME ? expand(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(xdg, 'huggingface');
}

/** The hub cache: `HF_HUB_CACHE`, else the legacy `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  return dir ? expand(dir) : path.join(hfHome(env), 'hub');
}

/** `HF_HUB_OFFLINE=1` (or transformers' `TRANSFORMERS_OFFLINE=1`): never reach the network. */
export function hubOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE);
}

/**
 * The access token: `HF_TOKEN`, else the legacy `HUGGING_FACE_HUB_TOKEN`, else the file `hf auth login`
 * writes (`HF_TOKEN_PATH`, default `$HF_HOME/token`); undefined when there is none.
 */
export function hubToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv?.trim()) return fromEnv.trim();
  const file = env.HF_TOKEN_PATH ? expand(env.HF_TOKEN_PATH) : path.join(hfHome(env), 'token');
  if (!existsSync(file)) return undefined;
  const token = readFileSync(file, 'utf8').trim();
  return token || undefined;
}

function expand(p: string): string {
  return p.startsWith('~') ? path.join(os.homedir(), p.slice(1)) : p;
}
