import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HubError,
  hubCacheDir,
  hubOffline,
  hubToken,
  loadModel,
  parseModelSpec,
  RepoCache,
  resolveHubModel,
  withLock,
  writeTinyHfModel,
} from '../src/index.js';
import { FakeHub, type FakeRepo, gitSha1, sha256 } from './fake-hub.js';
import { maxAbsDiff, modelLogits, tmpDir, useCpu } from './helpers.js';

beforeAll(useCpu);

/** A tiny model written to disk, as repo files: bfloat16 weights in two shards and an index. */
function tinyRepo(id: string, commit: string, extra: Partial<FakeRepo> = {}): { repo: FakeRepo; folder: string } {
  const { folder } = writeTinyHfModel(path.join(tmpDir(), 'src'), { dtype: 'BF16', shards: 2, numLayers: 2 });
  const files = new Map<string, Buffer>();
  for (const f of readdirSync(folder)) files.set(f, readFileSync(path.join(folder, f)));
  files.set('README.md', Buffer.from('# tiny\n')); // not needed: never downloaded
  return { repo: { id, commit, files, ...extra }, folder };
}

const COMMIT = 'a'.repeat(40);
const hub = new FakeHub();
const plain = tinyRepo('tiny-org/tiny-llama', COMMIT);
const gated = tinyRepo('gated-org/tiny-gated', 'b'.repeat(40), { gatedToken: 'hf_good' });
const flaky = tinyRepo('tiny-org/flaky', 'c'.repeat(40));
const lying = tinyRepo('tiny-org/lying', 'd'.repeat(40));
const shard1 = 'model-00001-of-00002.safetensors';

beforeAll(async () => {
  for (const r of [plain, gated, flaky, lying]) hub.add(r.repo);
  hub.renamed.set('old-org/tiny-llama', 'tiny-org/tiny-llama');
  await hub.start();
});
afterAll(() => hub.stop());

const quiet = { mode: 'silent' as const };
const options = (cacheDir: string, extra: object = {}) => ({
  cacheDir,
  endpoint: hub.endpoint,
  offline: false,
  token: undefined as string | undefined,
  progress: quiet,
  env: {}, // nothing from the machine's HF_* variables (a token, a cache) reaches these tests
  ...extra,
});

describe('models by name from the Hugging Face hub', () => {
  it('parses org/name[@revision] and tells names from paths', () => {
    expect(parseModelSpec('HuggingFaceTB/SmolLM2-135M-Instruct')).toEqual({
      repoId: 'HuggingFaceTB/SmolLM2-135M-Instruct',
      revision: 'main',
    });
    expect(parseModelSpec('Qwen/Qwen3-0.6B@refs/pr/3')).toEqual({ repoId: 'Qwen/Qwen3-0.6B', revision: 'refs/pr/3' });
    for (const bad of ['stories260K', './a/b', 'a/b/c', 'a--b/c', '-a/b', 'a/b.', 'a/b@', 'a/b@../x', '/abs/path']) {
      expect(parseModelSpec(bad), bad).toBeUndefined();
    }
  });

  it('a lock left by a dead process or by Python (empty) is taken over; a live one is waited for', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'x.lock');
    writeFileSync(file, '2147483646'); // no such process
    expect(await withLock(file, async () => readFileSync(file, 'utf8'))).toBe(String(process.pid));
    writeFileSync(file, ''); // Python's filelock leaves empty files behind
    expect(await withLock(file, async () => 'ran')).toBe('ran');
    expect(existsSync(file)).toBe(false);
    writeFileSync(file, String(process.pid)); // held (by us, standing in for a live process)
    await expect(withLock(file, async () => 'ran', 300)).rejects.toThrow(/held by process/);
  });

  it('reads the cache, offline switch and token from the environment as huggingface_hub does', () => {
    const home = tmpDir();
    expect(hubCacheDir({ HF_HOME: home })).toBe(path.join(home, 'hub'));
    expect(hubCacheDir({ HF_HOME: home, HF_HUB_CACHE: '/x/y' })).toBe('/x/y');
    expect(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/legacy' })).toBe('/legacy');
    expect(hubCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/huggingface/hub');
    expect(hubOffline({ HF_HUB_OFFLINE: '1' })).toBe(true);
    expect(hubOffline({ HF_HUB_OFFLINE: 'yes' })).toBe(true);
    expect(hubOffline({ HF_HUB_OFFLINE: '0' })).toBe(false);
    expect(hubToken({ HF_TOKEN: ' hf_x ', HF_HOME: home })).toBe('hf_x');
    writeFileSync(path.join(home, 'token'), 'hf_from_login\n');
    expect(hubToken({ HF_HOME: home })).toBe('hf_from_login');
  });

  it('downloads what a decoder needs into the hub cache layout, and loads it', async () => {
    const cache = tmpDir();
    const { model, info } = await loadModel('tiny-org/tiny-llama', { hub: options(cache) });
    const repo = new RepoCache(cache, 'tiny-org/tiny-llama');
    expect(info.storage).toBe('f32');
    expect(readFileSync(path.join(repo.root, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    const snapshot = repo.snapshot(COMMIT);
    expect(readdirSync(snapshot).sort()).toEqual(
      [
        'config.json',
        'generation_config.json',
        shard1,
        'model-00002-of-00002.safetensors',
        'model.safetensors.index.json',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    // snapshots/<commit>/<file> → ../../blobs/<etag>: git SHA-1 for small files, SHA-256 for LFS files
    for (const [name, data] of plain.repo.files) {
      if (name === 'README.md') continue;
      const pointer = path.join(snapshot, name);
      expect(lstatSync(pointer).isSymbolicLink()).toBe(true);
      const etag = name.endsWith('.safetensors') ? sha256(data) : gitSha1(data);
      expect(readlinkSync(pointer)).toBe(path.join('..', '..', 'blobs', etag));
      expect(readFileSync(pointer).equals(data)).toBe(true);
    }
    expect(readdirSync(path.join(repo.root, 'blobs')).filter((f) => f.endsWith('.incomplete'))).toEqual([]);
    const original = await loadModel(plain.folder);
    const ids = [0, 40, 41, 42, 7];
    expect(maxAbsDiff(modelLogits(model, ids), modelLogits(original.model, ids))).toBe(0);
    model.dispose();
    original.model.dispose();

    // Again: the hub is asked for the commit and metadata, but no file is fetched.
    const before = hub.downloads().length;
    const again = await resolveHubModel({ repoId: 'tiny-org/tiny-llama', revision: 'main' }, options(cache));
    expect(again.downloaded).toEqual([]);
    expect(hub.downloads().length).toBe(before);
    // Offline: not a single request, same folder.
    const requests = hub.log.length;
    const offline = await resolveHubModel(
      { repoId: 'tiny-org/tiny-llama', revision: 'main' },
      options(cache, { offline: true }),
    );
    expect(offline).toMatchObject({ folder: snapshot, offline: true });
    expect(hub.log.length).toBe(requests);
    // by commit hash, offline too
    const byCommit = await resolveHubModel(
      { repoId: 'tiny-org/tiny-llama', revision: COMMIT },
      options(cache, { offline: true }),
    );
    expect(byCommit.folder).toBe(snapshot);
  });

  it('follows a renamed repository’s relative redirect, and never sends the token to the CDN', async () => {
    const cache = tmpDir();
    const r = await resolveHubModel(
      { repoId: 'old-org/tiny-llama', revision: 'main' },
      options(cache, { token: 'hf_x' }),
    );
    expect(r.downloaded).toContain(shard1);
    const cdn = hub.log.filter((l) => l.server === 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((l) => l.authorization === undefined)).toBe(true);
    expect(
      hub.log.some(
        (l) =>
          l.server === 'hub' && l.url.startsWith('/tiny-org/tiny-llama/resolve/') && l.authorization === 'Bearer hf_x',
      ),
    ).toBe(true);
  });

  it('resumes a download cut short with a Range request, and checks the result', async () => {
    const cache = tmpDir();
    const data = flaky.repo.files.get(shard1)!;
    const cut = data.length >> 1;
    // One attempt: the run fails, saying so, and keeps the partial file…
    hub.truncateOnce.set(shard1, cut);
    const err = await resolveHubModel(
      { repoId: 'tiny-org/flaky', revision: 'main' },
      options(cache, { attempts: 1 }),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    // (how much of the cut body arrives before the reset is up to the network: at most `cut`)
    const dropped = new RegExp(
      `${shard1} of tiny-org/flaky: the connection dropped after (\\d+) of ${data.length} bytes.*run again to resume`,
    ).exec(err.message);
    expect(dropped, err.message).not.toBeNull();
    const got = Number(dropped?.[1]);
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThanOrEqual(cut);
    const partial = new RepoCache(cache, 'tiny-org/flaky').blob(`${sha256(data)}.incomplete`);
    expect(statSync(partial).size).toBe(got);
    // …and the next run asks for the rest only.
    const r = await resolveHubModel({ repoId: 'tiny-org/flaky', revision: 'main' }, options(cache));
    expect(hub.log.filter((l) => l.server === 'cdn' && l.range === `bytes=${got}-`).length).toBe(1);
    expect(readFileSync(path.join(r.folder, shard1)).equals(data)).toBe(true);
    expect(existsSync(partial)).toBe(false);
    // Within one run, a dropped connection is retried from where it stopped.
    const cache2 = tmpDir();
    hub.truncateOnce.set(shard1, 100);
    const ranged = hub.log.filter((l) => l.range).length;
    const r2 = await resolveHubModel({ repoId: 'tiny-org/flaky', revision: 'main' }, options(cache2));
    expect(readFileSync(path.join(r2.folder, shard1)).equals(data)).toBe(true);
    expect(hub.log.filter((l) => /^bytes=[1-9]\d*-$/.test(l.range ?? '')).length).toBe(ranged + 1);
  });

  it('a gated model: 401 without a token, 403 with a token that has no access, works with the right one', async () => {
    const cache = tmpDir();
    const spec = { repoId: 'gated-org/tiny-gated', revision: 'main' };
    const none = await resolveHubModel(spec, options(cache)).catch((e) => e);
    expect(none).toBeInstanceOf(HubError);
    expect(none.message).toMatch(
      /gated-org\/tiny-gated is a gated model: accept its license at http:\/\/127\.0\.0\.1:\d+\/gated-org\/tiny-gated.*set HF_TOKEN/,
    );
    const wrong = await resolveHubModel(spec, options(cache, { token: 'hf_wrong' })).catch((e) => e);
    expect(wrong.message).toMatch(/your HF_TOKEN has no access to it yet/);
    const ok = await resolveHubModel(spec, options(cache, { token: 'hf_good' }));
    expect(existsSync(path.join(ok.folder, shard1))).toBe(true);
  });

  it('a file whose bytes do not match the hub’s SHA-256 is not kept', async () => {
    const cache = tmpDir();
    hub.corrupt.add(shard1);
    try {
      const err = await resolveHubModel({ repoId: 'tiny-org/lying', revision: 'main' }, options(cache)).catch((e) => e);
      expect(err).toBeInstanceOf(HubError);
      const etag = sha256(lying.repo.files.get(shard1)!);
      expect(err.message).toMatch(
        new RegExp(
          `${shard1} of tiny-org/lying: SHA-256 mismatch \\(the hub says ${etag}, the download is [0-9a-f]{64}\\); the file was not kept`,
        ),
      );
      const repo = new RepoCache(cache, 'tiny-org/lying');
      expect(existsSync(repo.blob(etag))).toBe(false);
      expect(existsSync(`${repo.blob(etag)}.incomplete`)).toBe(false);
      expect(existsSync(repo.pointer('d'.repeat(40), shard1))).toBe(false);
    } finally {
      hub.corrupt.delete(shard1);
    }
  });

  it('unknown repositories, revisions, and an unreachable hub say so in one line', async () => {
    const cache = tmpDir();
    const missing = await resolveHubModel({ repoId: 'nobody/nothing', revision: 'main' }, options(cache)).catch(
      (e) => e,
    );
    expect(missing.message).toMatch(/nobody\/nothing: no such model on the hub .*private: set HF_TOKEN/);
    const rev = await resolveHubModel({ repoId: 'tiny-org/tiny-llama', revision: 'v9' }, options(cache)).catch(
      (e) => e,
    );
    expect(rev.message).toBe('tiny-org/tiny-llama has no revision "v9" (a branch, tag or commit hash)');
    const down = await resolveHubModel(
      { repoId: 'tiny-org/tiny-llama', revision: 'main' },
      options(cache, { endpoint: 'http://127.0.0.1:9' }),
    ).catch((e) => e);
    expect(down.message).toMatch(
      /tiny-org\/tiny-llama is not in the Hugging Face cache .* and the hub cannot be reached/,
    );
    expect(down.message).not.toContain('\n');
  });

  it('offline with no cache: one line saying what is missing and how to get it', async () => {
    const cache = tmpDir();
    const err = await loadModel('HuggingFaceTB/SmolLM2-135M-Instruct', {
      hub: { cacheDir: cache, offline: true },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.message).not.toContain('\n');
    expect(err.message).toBe(
      `HuggingFaceTB/SmolLM2-135M-Instruct is not in the Hugging Face cache (${path.join(cache, 'models--HuggingFaceTB--SmolLM2-135M-Instruct')}) ` +
        'and HF_HUB_OFFLINE=1 forbids downloading it: run `introdl lab3 generate --model HuggingFaceTB/SmolLM2-135M-Instruct` once with network access (without HF_HUB_OFFLINE), ' +
        'or `hf download HuggingFaceTB/SmolLM2-135M-Instruct`, or pass --model <folder>',
    );
  });

  it('uses a cache written by Python’s huggingface_hub (blobs, relative symlinks, refs) offline', async () => {
    const cache = tmpDir();
    const commit = 'e'.repeat(40);
    const root = path.join(cache, 'models--python-org--tiny');
    mkdirSync(path.join(root, 'blobs'), { recursive: true });
    mkdirSync(path.join(root, 'refs'), { recursive: true });
    mkdirSync(path.join(root, 'snapshots', commit), { recursive: true });
    writeFileSync(path.join(root, 'refs', 'main'), commit);
    for (const [name, data] of plain.repo.files) {
      const etag = name.endsWith('.safetensors') ? sha256(data) : gitSha1(data);
      writeFileSync(path.join(root, 'blobs', etag), data);
      symlinkSync(`../../blobs/${etag}`, path.join(root, 'snapshots', commit, name));
    }
    const { model } = await loadModel('python-org/tiny', { hub: { cacheDir: cache, offline: true, env: {} } });
    const original = await loadModel(plain.folder);
    expect(maxAbsDiff(modelLogits(model, [0, 5, 6]), modelLogits(original.model, [0, 5, 6]))).toBe(0);
    model.dispose();
    original.model.dispose();
    // a snapshot missing a shard is named as such
    const partial = tmpDir();
    const dst = path.join(partial, 'models--python-org--tiny');
    mkdirSync(path.join(dst, 'snapshots', commit), { recursive: true });
    mkdirSync(path.join(dst, 'refs'), { recursive: true });
    writeFileSync(path.join(dst, 'refs', 'main'), commit);
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors.index.json']) {
      writeFileSync(path.join(dst, 'snapshots', commit, f), plain.repo.files.get(f)!);
    }
    const err = await loadModel('python-org/tiny', { hub: { cacheDir: partial, offline: true, env: {} } }).catch(
      (e) => e,
    );
    expect(err.message).toMatch(
      /is only partly in the Hugging Face cache .* lacks model-00001-of-00002\.safetensors, model-00002-of-00002\.safetensors/,
    );
  });
});
