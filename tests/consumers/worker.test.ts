// semcache in a Cloudflare worker project: the README's worker (it imports semcache/edge and the
// wasm core) with docs/install.md's wrangler.toml, bundled by wrangler itself
// (`wrangler deploy --dry-run --outdir`), then the bundle run in workerd (Miniflare) with its
// SQLite Durable Object: a question misses, its paraphrase hits, the LLM is called once.
// The LLM and the embeddings API are local stand-ins; the embeddings are the bundled encoder's
// (USE lite, served by this process), so the hit is a real paraphrase match.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnnxEmbedder, USE_LITE_THRESHOLD } from '../../dist/node.js';
import { startFakeEmbeddings, startFakeUpstream } from '../js/fake-servers.mjs';
import { workerMiniflare } from '../js/miniflare.mjs';
import { devVersion, project, run, snippet } from './helpers.js';

let dir: string;
let bundle: string[];
let persist: string;
let embedder: OnnxEmbedder;
let up: Awaited<ReturnType<typeof startFakeUpstream>>;
let emb: Awaited<ReturnType<typeof startFakeEmbeddings>>;

beforeAll(async () => {
  dir = project('worker', {
    pkg: { devDependencies: { wrangler: devVersion('wrangler') } },
    files: { 'src/index.js': snippet('worker'), 'wrangler.toml': snippet('worker', 'toml') },
  });
  fs.rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  const out = run(path.join(dir, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', 'out'], {
    cwd: dir,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', WRANGLER_LOG_PATH: path.join(dir, '.wrangler-logs') },
  });
  console.log(out.stdout.split('\n').filter((l) => /Total Upload|KiB|--dry-run/.test(l)).join('\n'));
  bundle = fs.readdirSync(path.join(dir, 'out'));
  persist = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-consumer-worker-'));
  embedder = await OnnxEmbedder.load();
  up = await startFakeUpstream();
  emb = await startFakeEmbeddings({ embed: (texts: string[]) => embedder.embed(texts) });
});

afterAll(async () => {
  await up?.close();
  await emb?.close();
  await embedder?.dispose();
  if (persist) fs.rmSync(persist, { recursive: true, force: true });
});

describe('Cloudflare worker project, bundled by wrangler', () => {
  it('bundles the worker with the wasm core as a module of its own', () => {
    expect(bundle).toContain('index.js');
    expect(bundle.filter((f) => f.endsWith('.wasm'))).toHaveLength(1);
  });

  it('runs in workerd: a miss, then a paraphrase hit from the Durable Object', async () => {
    const mf = workerMiniflare({
      script: path.join(dir, 'out/index.js'),
      modulesRoot: path.join(dir, 'out'),
      durable: true,
      persist,
      // the [vars] of wrangler.toml, pointed at the local stand-ins
      bindings: {
        UPSTREAM_BASE_URL: up.url,
        EMBEDDINGS_URL: emb.url,
        EMBEDDINGS_MODEL: 'use-lite',
        EMBEDDINGS_DIMENSIONS: '512',
        EMBEDDINGS_SEND_DIMENSIONS: 'false',
        SIMILARITY_THRESHOLD: String(USE_LITE_THRESHOLD),
        // the secret docs/install.md asks for when the client's own key reaches the upstream
        CREDENTIAL_HASH_KEY: 'consumer-test-credential-hash-key',
      },
    });
    try {
      const chat = async (content: string) => {
        const r = await mf.dispatchFetch('http://worker/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
        });
        const body = (await r.json()) as { choices: { message: { content: string } }[] };
        return { status: r.status, cache: r.headers.get('x-semcache'), similarity: Number(r.headers.get('x-semcache-similarity')), answer: body.choices[0]!.message.content };
      };
      const first = await chat('How do I learn Python quickly?');
      expect(first).toMatchObject({ status: 200, cache: 'miss' });
      const second = await chat('How can I learn Python quickly?');
      expect(second).toMatchObject({ status: 200, cache: 'hit', answer: first.answer });
      expect(second.similarity).toBeGreaterThanOrEqual(USE_LITE_THRESHOLD);
      expect(second.similarity).toBeLessThan(1);
      expect(up.calls).toHaveLength(1);
      expect(emb.calls.length).toBeGreaterThanOrEqual(2);
    } finally {
      await mf.dispose();
    }
  });
});
