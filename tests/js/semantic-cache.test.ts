// The public API, imported by package name (self-reference through package.json "exports").
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore, SemanticCache, SemcacheError, type CacheStore } from 'semcache';
import { toyEmbedder } from './helpers.js';

const embedder = toyEmbedder(64);

async function open(extra: Partial<Parameters<typeof SemanticCache.open>[0]> = {}) {
  return SemanticCache.open({ embedder, threshold: 0.8, ...extra });
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(SemcacheError);
    return (e as SemcacheError).code;
  }
  return 'ok';
}

describe('SemanticCache', () => {
  it('infers dimensions, answers exact and paraphrased prompts, misses unrelated ones', async () => {
    const cache = await open();
    expect(cache.dimensions).toBe(64);
    await cache.put('How do I reset my router password?', 'Hold the reset button for 10 s.');
    const exact = await cache.get('How do I reset my router password?');
    expect(exact).toMatchObject({ hit: true, exact: true, similarity: 1, answer: 'Hold the reset button for 10 s.' });
    expect(exact.timings.embedMs).toBe(0);
    // the same normalized text (case, spacing, the final "?"): still exact, no embedding
    const repeat = await cache.get('  how do i reset my ROUTER password ');
    expect(repeat).toMatchObject({ hit: true, exact: true, matchedPrompt: 'How do I reset my router password?' });
    expect(repeat.timings.embedMs).toBe(0);
    const para = await cache.get('Please, how do I reset my router password?');
    expect(para).toMatchObject({ hit: true, exact: false, matchedPrompt: 'How do I reset my router password?' });
    if (para.hit) expect(para.similarity).toBeGreaterThan(0.8);
    const miss = await cache.get('What is the boiling point of water?');
    expect(miss.hit).toBe(false);
    expect(miss.similarity).not.toBeNull();
    const s = await cache.stats();
    expect(s).toMatchObject({ lookups: 4, hits: 3, exactHits: 2, misses: 1, entries: 1, puts: 1, store: 'memory' });
    expect(s.embedCalls).toBe(3);  // the put, the paraphrase and the miss
    await cache.close();
  });

  it('keeps scopes apart: model, params, tenant', async () => {
    const cache = await open();
    await cache.put('Tell me a joke', 'A', { scope: { model: 'gpt-a', tenant: 't1' } });
    expect((await cache.get('Tell me a joke', { scope: { model: 'gpt-b', tenant: 't1' } })).hit).toBe(false);
    expect((await cache.get('Tell me a joke', { scope: { model: 'gpt-a', tenant: 't2' } })).hit).toBe(false);
    expect((await cache.get('Tell me a joke', { scope: { tenant: 't1', model: 'gpt-a' } })).hit).toBe(true);
    await cache.put('Tell me a joke', 'B', { scope: { model: 'gpt-a', tenant: 't1', params: { temperature: 1 } } });
    const r = await cache.get('Tell me a joke', { scope: { model: 'gpt-a', tenant: 't1', params: { temperature: 1 } } });
    expect(r.hit && r.answer).toBe('B');
    await cache.close();
  });

  it('getOrCompute calls compute once per question and caches its answer', async () => {
    const cache = await open();
    const compute = vi.fn(async (p: string) => `answer to ${p}`);
    const a = await cache.getOrCompute('What is the capital of France?', compute);
    const b = await cache.getOrCompute('Tell me: what is the capital of France?', compute);
    expect(compute).toHaveBeenCalledTimes(1);
    expect(a).toMatchObject({ hit: false, answer: 'answer to What is the capital of France?' });
    expect(b).toMatchObject({ hit: true, answer: a.answer });
    expect((await cache.stats()).embedCalls).toBe(2);  // the miss's vector was reused for the put
    await cache.close();
  });

  it('getOrCompute falls through to compute when the cache fails, and says so', async () => {
    let fail = false;
    const flaky = async (texts: string[]) => {
      if (fail) throw new Error('embedding service down');
      return embedder(texts);
    };
    const cache = await SemanticCache.open({ embedder: flaky, dimensions: 64 });
    fail = true;
    const errors: Error[] = [];
    const r = await cache.getOrCompute('Anything at all?', async () => 'from the LLM', { onCacheError: (e) => errors.push(e) });
    expect(r.answer).toBe('from the LLM');
    expect(r.hit).toBe(false);
    expect((r.cacheError as SemcacheError).code).toBe('EMBEDDER_FAILED');
    expect(errors).toHaveLength(1);
    // bad input is a cache error too, never a failed call
    const r2 = await cache.getOrCompute('', async () => 'still answered');
    expect(r2.answer).toBe('still answered');
    expect((r2.cacheError as SemcacheError).code).toBe('INVALID_PROMPT');
    // the compute's own failure is the caller's to see
    fail = false;
    await expect(cache.getOrCompute('q?', async () => Promise.reject(new Error('LLM 500')))).rejects.toThrow('LLM 500');
    await cache.close();
  });

  it('rejects bad input with a clear, coded error', async () => {
    const cache = await open({ maxPromptChars: 1000, maxAnswerBytes: 100 });
    expect(await codeOf(cache.get(''))).toBe('INVALID_PROMPT');
    expect(await codeOf(cache.get('   \n'))).toBe('INVALID_PROMPT');
    expect(await codeOf(cache.get(42 as unknown as string))).toBe('INVALID_PROMPT');
    expect(await codeOf(cache.get('x'.repeat(1001)))).toBe('INVALID_PROMPT');
    expect(await codeOf(cache.get('bad \uD800 surrogate'))).toBe('INVALID_PROMPT');
    expect(await codeOf(cache.put('ok?', 7 as unknown as string))).toBe('INVALID_ANSWER');
    expect(await codeOf(cache.put('ok?', 'é'.repeat(51)))).toBe('INVALID_ANSWER');
    expect(await codeOf(cache.put('ok?', 'x', { ttl: -1 }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(cache.put('ok?', 'x', { scope: 5 as unknown as string }))).toBe('INVALID_SCOPE');
    expect(await codeOf(cache.delete(-3))).toBe('INVALID_ARGUMENT');
    expect((await cache.stats()).entries).toBe(0);
    await cache.close();
    expect(await codeOf(cache.get('after close'))).toBe('CLOSED');
    expect(await codeOf(() => cache.stats())).toBe('CLOSED');
  });

  it('rejects embedders that return the wrong shape, NaN or nothing', async () => {
    const wrongLength = await SemanticCache.open({ embedder: async (t) => t.map(() => new Float32Array(8)), dimensions: 16 });
    expect(await codeOf(wrongLength.put('q', 'a'))).toBe('DIMENSION_MISMATCH');
    const nan = await SemanticCache.open({ embedder: async (t) => t.map(() => Float32Array.from([1, NaN, 0])), dimensions: 3 });
    expect(await codeOf(nan.get('q'))).toBe('NOT_FINITE');
    const none = await SemanticCache.open({ embedder: async () => [], dimensions: 3 });
    expect(await codeOf(none.get('q'))).toBe('EMBEDDER_FAILED');
    expect(await codeOf(SemanticCache.open({ embedder: async () => [] }))).toBe('EMBEDDER_FAILED');
    expect(await codeOf(SemanticCache.open({ embedder: 'nope' as never }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(SemanticCache.open({ embedder, threshold: 1.5 }))).toBe('INVALID_ARGUMENT');
    await Promise.all([wrongLength.close(), nan.close(), none.close()]);
  });

  it('expires entries by TTL and evicts by count', async () => {
    let t = 1_000_000;
    const cache = await open({ clock: () => t, ttl: 1000, maxEntries: 3, evictFraction: 0 });
    await cache.put('first question here', 'a');
    t += 999;
    expect((await cache.get('first question here')).hit).toBe(true);
    t += 1;
    expect((await cache.get('first question here')).hit).toBe(false);
    for (const q of ['alpha one', 'beta two', 'gamma three', 'delta four']) await cache.put(q, q, { ttl: 0 });
    expect((await cache.stats()).entries).toBe(3);
    expect((await cache.stats()).evictions).toBeGreaterThan(0);
    await cache.close();
  });

  it('deletes, clears a scope, clears all, lists entries', async () => {
    const cache = await open();
    const a = await cache.put('one fish', '1', { scope: 'x', metadata: { source: 'test' } });
    await cache.put('two fish', '2', { scope: 'x' });
    await cache.put('red fish', '3', { scope: 'y' });
    const listed = await cache.entries({ scope: 'x' });
    expect(listed.map((e) => e.prompt)).toEqual(['two fish', 'one fish']);
    expect(listed[1]!.metadata).toEqual({ source: 'test' });
    expect(await cache.delete(a.id)).toBe(true);
    expect(await cache.delete(a.id)).toBe(false);
    expect(await cache.clear({ scope: 'x' })).toBe(1);
    expect((await cache.stats()).entries).toBe(1);
    expect(await cache.clear()).toBe(1);
    expect((await cache.stats()).entries).toBe(0);
    await cache.close();
  });

  it('reopens from the store: from the snapshot, and from rows when the snapshot is stale', async () => {
    const store = new MemoryStore();
    const c1 = await open({ store });
    for (let i = 0; i < 20; i++) await c1.put(`question number ${i} about topic ${i}`, `answer ${i}`);
    await c1.close();  // writes a snapshot
    const c2 = await open({ store });
    expect((await c2.stats()).entries).toBe(20);
    const r = await c2.get('question number 7 about topic 7?');
    expect(r.hit && r.answer).toBe('answer 7');
    await c2.put('one more question', 'more');
    // simulate a crash: no close, so the snapshot lags the rows
    const c3 = await open({ store });
    expect((await c3.stats()).entries).toBe(21);
    expect((await c3.get('one more question')).hit).toBe(true);
    await c3.close();
    await expect(SemanticCache.open({ embedder, dimensions: 32, store })).rejects.toMatchObject({ code: 'STORE_MISMATCH' });
    const fresh = await SemanticCache.open({ embedder: toyEmbedder(32), dimensions: 32, store, resetOnMismatch: true });
    expect((await fresh.stats()).entries).toBe(0);
    await fresh.close();
  });

  it('a failed store write leaves the cache as it was', async () => {
    const store = new MemoryStore();
    const cache = await open({ store });
    await cache.put('keep me please', 'old answer');
    const apply = store.apply.bind(store);
    store.apply = async () => {
      throw new Error('disk full');
    };
    expect(await codeOf(cache.put('keep me please', 'new answer'))).toBe('STORE_FAILED');
    expect(await codeOf(cache.put('another question', 'x'))).toBe('STORE_FAILED');
    store.apply = apply;
    const r = await cache.get('keep me please');
    expect(r.hit && r.answer).toBe('old answer');
    expect((await cache.stats()).entries).toBe(1);
    await cache.close();
  });

  it('honours AbortSignal', async () => {
    const cache = await open();
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(cache.get('anything', { signal: ac.signal }))).toBe('ABORTED');
    await cache.close();
  });

  it('accepts an embedder object and uses its calibrated threshold', async () => {
    const obj = { embed: embedder, dimensions: 64, id: 'toy-64', defaultThreshold: 0.77 };
    const cache = await SemanticCache.open({ embedder: obj, store: new MemoryStore() as CacheStore });
    expect(cache.threshold).toBe(0.77);
    expect((await cache.stats()).dimensions).toBe(64);
    await cache.close();
  });
  it('a lookup during a put\'s write finds the entry and keeps it (the store has no row yet)', async () => {
    // A store whose batches wait for a gate: the entry is in the core, its row not yet stored.
    class SlowStore extends MemoryStore {
      gate: Promise<void> | null = null;
      writing: (() => void) | null = null;
      override async apply(batch: Parameters<MemoryStore['apply']>[0]) {
        if (this.gate && batch.put?.length) {
          this.writing?.();
          await this.gate;
        }
        return super.apply(batch);
      }
    }
    const store = new SlowStore();
    const cache = await open({ store });
    let release!: () => void;
    store.gate = new Promise((r) => (release = r));
    const writing = new Promise<void>((r) => (store.writing = r));
    const put = cache.put('How do I reset my router password?', 'Hold the reset button for 10 s.');
    await writing;
    // before the fix: the row was missing, so the lookup removed the entry from the core ("trust
    // the store") and missed, and so did every lookup after the write (a second LLM call)
    for (const q of ['How do I reset my router password?', 'Please, how do I reset my router password?']) {
      expect(await cache.get(q)).toMatchObject({ hit: true, answer: 'Hold the reset button for 10 s.' });
    }
    release();
    await put;
    store.gate = null;
    expect(await cache.get('Please, how do I reset my router password?')).toMatchObject({ hit: true, answer: 'Hold the reset button for 10 s.' });
    expect((await cache.stats()).entries).toBe(1);
    await cache.close();
  });
});
