// The edge worker's pure parts in Node: configuration checks, shard choice, stats summing and
// the embedding memo that makes a miss cost one embeddings call.
import { describe, expect, it } from 'vitest';
import { edgeConfig, memoEmbedder, shardName, shardOf, sumStats } from '../../dist/edge/index.js';

const env = { CACHE: {} as never, UPSTREAM_BASE_URL: 'https://llm.test', EMBEDDINGS_URL: 'https://emb.test', EMBEDDINGS_MODEL: 'e', UPSTREAM_API_KEY: 'sk' };

describe('edgeConfig', () => {
  it('has defaults', () => {
    expect(edgeConfig(env)).toMatchObject({ threshold: 0.9, shardsPerTenant: 1, maxEntries: 20_000, ttlMs: 0, space: 'int8', sendDimensions: false, tenantHeader: 'x-semcache-tenant', snapshotDelayMs: 30_000 });
    expect(edgeConfig(env).embeddingsDimensions).toBeUndefined();
    expect(edgeConfig(env)).toMatchObject({ corsOrigins: [], maxBodyBytes: 1 << 20, bodyTimeoutMs: 30_000, upstreamTimeoutMs: 60_000, tenantTokens: undefined });
    expect(edgeConfig({ ...env, CORS_ORIGINS: 'https://a.example, https://b.example', TENANT_TOKENS: '{"t1":"acme"}' })).toMatchObject({ corsOrigins: ['https://a.example', 'https://b.example'], tenantTokens: { t1: 'acme' } });
    expect(edgeConfig({ ...env, TTL_SECONDS: '1.5', EMBEDDINGS_DIMENSIONS: '512', EMBEDDINGS_SEND_DIMENSIONS: 'true' })).toMatchObject({ ttlMs: 1500, embeddingsDimensions: 512, sendDimensions: true });
  });

  it("EMBEDDER use-lite needs no embeddings API and leaves the threshold to the model's calibrated default", () => {
    const local = { CACHE: {} as never, UPSTREAM_BASE_URL: 'https://llm.test', EMBEDDER: 'use-lite', CREDENTIAL_HASH_KEY: 'k' };
    expect(edgeConfig(local)).toMatchObject({ embedder: 'use-lite', embeddingsUrl: '', embeddingsModel: '', sendDimensions: false });
    expect(edgeConfig(local).threshold).toBeUndefined();
    // the remote-only settings are ignored, not half-applied
    expect(edgeConfig({ ...local, EMBEDDINGS_DIMENSIONS: '64', EMBEDDINGS_SEND_DIMENSIONS: 'true' }).embeddingsDimensions).toBeUndefined();
    expect(edgeConfig({ ...local, SIMILARITY_THRESHOLD: '0.9' }).threshold).toBe(0.9);
    expect(edgeConfig(env).embedder).toBe('remote');
  });

  it('names what is wrong', () => {
    const bad: [Record<string, string | undefined>, RegExp][] = [
      [{ UPSTREAM_BASE_URL: undefined }, /UPSTREAM_BASE_URL must be an http\(s\) URL, got null/],
      [{ EMBEDDINGS_URL: 'emb.test' }, /EMBEDDINGS_URL must be an http\(s\) URL/],
      [{ EMBEDDINGS_MODEL: '' }, /EMBEDDINGS_MODEL is not set/],
      [{ SIMILARITY_THRESHOLD: '1.5' }, /SIMILARITY_THRESHOLD must be a number in \[-1, 1\]/],
      [{ SHARDS_PER_TENANT: '2.5' }, /SHARDS_PER_TENANT must be an integer/],
      [{ INDEX_SPACE: 'f16' }, /INDEX_SPACE must be int8 or f32/],
      [{ EMBEDDINGS_SEND_DIMENSIONS: 'true' }, /needs EMBEDDINGS_DIMENSIONS/],
      [{ EMBEDDER: 'openai' }, /EMBEDDER must be remote or use-lite, got "openai"/],
      [{ UPSTREAM_API_KEY: undefined }, /set the secret CREDENTIAL_HASH_KEY/],
      [{ TENANT_TOKENS: '["tok"]' }, /TENANT_TOKENS must be a JSON object/],
      [{ UPSTREAM_TIMEOUT_MS: '0' }, /UPSTREAM_TIMEOUT_MS must be an integer in \[1, /],
    ];
    for (const [patch, re] of bad) {
      expect(() => edgeConfig({ ...env, ...patch } as never), String(re)).toThrow(re);
    }
  });
});

describe('sharding', () => {
  it('keeps a scope in one shard and spreads scopes', () => {
    const scope = (model: string) => ({ model, params: { endpoint: 'chat', temperature: 'default', system: [] }, tenant: 't' });
    expect(shardOf(scope('a'), 1)).toBe(0);
    expect(shardOf(scope('a'), 8)).toBe(shardOf({ tenant: 't', params: { system: [], temperature: 'default', endpoint: 'chat' }, model: 'a' }, 8));
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 800; i++) counts[shardOf(scope(`model-${i}`), 8)]++;
    expect(Math.min(...counts)).toBeGreaterThan(60);
    expect(shardName('a#1', 0)).not.toBe(shardName('a', 1));
  });

  it('sums stats over shards', () => {
    const one = { lookups: 4, hits: 1, exactHits: 0, misses: 3, hitRate: 0.25, puts: 3, evictions: 0, expirations: 0, removals: 0, entries: 3, bytes: 30, scopes: 1, time: { embedMs: 1, searchMs: 1, evaluateMs: 0, storeMs: 1, evictMs: 0 }, embedCalls: 4, cacheErrors: 0, store: 'durable-object', threshold: 0.9, dimensions: 8 };
    const two = { ...one, lookups: 6, hits: 5, misses: 1, entries: 1, time: { ...one.time, embedMs: 2 }, snapshotCurrent: true };
    const sum = sumStats([{ ...one, snapshotCurrent: false }, two]);
    expect(sum).toMatchObject({ lookups: 10, hits: 6, hitRate: 0.6, entries: 4, shards: 2, threshold: 0.9, time: { embedMs: 3 }, snapshotsCurrent: 1 });
    expect(sum).not.toHaveProperty('snapshotCurrent');
  });
});

describe('memoEmbedder', () => {
  it('embeds a text once while it is remembered, in input order', async () => {
    const seen: string[][] = [];
    const inner = { id: 'x', dimensions: 1, embed: async (t: string[]) => (seen.push(t), t.map((s) => [s.length])) };
    const e = memoEmbedder(inner, 2);
    expect(await e.embed(['aa', 'b'])).toEqual([[2], [1]]);
    expect(await e.embed(['b', 'aa'])).toEqual([[1], [2]]);
    expect(await e.embed(['ccc', 'b'])).toEqual([[3], [1]]);
    expect(await e.embed(['aa'])).toEqual([[2]]);  // forgotten (size 2): embedded again
    expect(seen).toEqual([['aa', 'b'], ['ccc'], ['aa']]);
    expect(e.id).toBe('x');
  });
});
