// A copy's lookup in one turn (CacheInternals.lookupHere, what a page's copy of an OPFS cache
// answers semantic hits with): the same hits and misses as the cache's own lookup by meaning,
// the row read from the memory store, and refused where it does not apply.
import { describe, expect, it } from 'vitest';
import { MemoryStore, SemanticCache, SemcacheError } from 'semcache';
import { INTERNAL } from '../../dist/internal.js';
import { toyEmbedder } from './helpers.js';

const embedder = toyEmbedder(64);

describe('lookupHere', () => {
  it('gives the hit and the miss that a lookup by meaning gives, without awaiting', async () => {
    const cache = await SemanticCache.open({ embedder, threshold: 0.8, store: new MemoryStore() });
    const { id } = await cache.put('How do I reset my router password?', 'Hold the reset button for 10 s.', { metadata: { source: 'manual' } });
    const para = 'Please, how do I reset my router password?';
    const [v] = await embedder([para]);
    const vector = Float32Array.from(v!);
    const here = cache[INTERNAL].lookupHere(para, {}, vector);
    expect(here).not.toBeInstanceOf(Promise);
    const { result } = await cache[INTERNAL].lookup(para, { vector }, false);
    expect(result.hit).toBe(true);
    expect(here).toMatchObject({ hit: true, exact: false, id, answer: 'Hold the reset button for 10 s.', matchedPrompt: 'How do I reset my router password?', metadata: { source: 'manual' }, tier: 'local' });
    if (!here || !result.hit) throw new Error('no hit');
    expect(here.similarity).toBe(result.similarity);
    expect(here.score).toBe(result.score);
    expect(here.candidates).toEqual(result.candidates);
    // a miss: undefined (the page asks the worker), and the threshold and scope are the caller's
    const [far] = await embedder(['What is the boiling point of water?']);
    expect(cache[INTERNAL].lookupHere('What is the boiling point of water?', {}, Float32Array.from(far!))).toBeUndefined();
    expect(cache[INTERNAL].lookupHere(para, { threshold: 0.9999 }, vector)).toBeUndefined();
    expect(cache[INTERNAL].lookupHere(para, { scope: 'another' }, vector)).toBeUndefined();
    // the hits count as the cache's lookups, and touch the entry
    const s = await cache.stats();
    expect(s.hits).toBe(2);
    await cache.flush();
    expect((await cache.entries()).find((e) => e.id === id)?.hits).toBe(2);
    await cache.close();
  });

  it('is refused on a store that is not in memory, with a verifier, with a vector of another length, and after close', async () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SemcacheError);
        return (e as SemcacheError).code;
      }
      return 'ok';
    };
    const vector = new Float32Array(64).fill(0.125);
    const file = await SemanticCache.open({ embedder, storage: 'file', path: `/tmp/semcache-copy-${process.pid}.sqlite` });
    expect(code(() => file[INTERNAL].lookupHere('a question', {}, vector))).toBe('INVALID_ARGUMENT');
    await file.close();
    const verified = await SemanticCache.open({ embedder, verifier: { fn: () => true, band: [0.5, 0.9] } });
    expect(code(() => verified[INTERNAL].lookupHere('a question', {}, vector))).toBe('INVALID_ARGUMENT');
    await verified.close();
    const mem = await SemanticCache.open({ embedder });
    expect(code(() => mem[INTERNAL].lookupHere('a question', {}, new Float32Array(32).fill(0.125)))).toBe('DIMENSION_MISMATCH');
    expect(code(() => mem[INTERNAL].lookupHere('a question', {}, vector))).toBe('ok');
    await mem.close();
    expect(code(() => mem[INTERNAL].lookupHere('a question', {}, vector))).toBe('CLOSED');
  });
});
