// The C++ suite's cases, run against the wasm build in Node (the same core, compiled with
// SIMD128): recall, snapshots, corruption, eviction order, TTL, byte budget, scopes, bad input.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CacheCore, SemcacheCoreModule } from '../../dist/wasm/semcache_core.mjs';
import { loadModule, near, randomUnit, rng } from './helpers.js';

let M: SemcacheCoreModule;
beforeAll(async () => {
  M = await loadModule();
});

function setVec(c: CacheCore, v: Float32Array) {
  M.HEAPF32.set(v, c.vectorBuffer() >> 2);
}
function put(c: CacheCore, scope: string, prompt: string, v: Float32Array, bytes = 1, now = 0, ttl = 0) {
  setVec(c, v);
  return c.put(scope, prompt, v.length, bytes, now, ttl);
}
function lookup(c: CacheCore, scope: string, v: Float32Array, now = 0, opts: object = {}) {
  setVec(c, v);
  return c.lookup(scope, '', v.length, now, opts);
}
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'ok';
}
/** JS mirror of the int8 space (Int8Space::encode): among the grid steps max|x|/127 * (1 - 0.01 t),
 * t < 24, the rounded code closest in angle to v, scaled to unit length. */
function quantize(v: Float32Array): Float32Array {
  let m = 0;
  for (const x of v) m = Math.max(m, Math.abs(x));
  let best = new Float32Array(v.length), bestCos = -2, bestNorm = 1;
  for (let t = 0; t < 24; t++) {
    const inv = Math.fround(127 / Math.fround(m * Math.fround(1 - Math.fround(Math.fround(0.01) * t))));
    const code = v.map((x) => Math.max(-127, Math.min(127, Math.round(Math.fround(x * inv)))));
    let cx = 0, cc = 0;
    for (let i = 0; i < v.length; i++) {
      cx += code[i]! * v[i]!;
      cc += code[i]! * code[i]!;
    }
    if (cx / Math.sqrt(cc) > bestCos) {
      bestCos = cx / Math.sqrt(cc);
      bestNorm = Math.sqrt(cc);
      best = code;
    }
  }
  const scale = Math.fround(1 / bestNorm);
  return best.map((c) => scale * c);
}

describe.each(['f32', 'int8'] as const)('wasm index, %s space', (space) => {
  it('recall@10 vs brute force >= 0.99 on 20k clustered unit vectors', () => {
    const n = 20000, dim = 512, nq = 100, k = 10;
    const r = rng(7);
    const centres = Array.from({ length: 200 }, () => randomUnit(dim, r));
    const data = Array.from({ length: n }, (_, i) => near(centres[(i * 7919) % 200]!, 0.03, r));
    const c = new M.CacheCore({ dimensions: dim, space, maxEntries: 0, efConstruction: 100, candidates: k });  // default efSearch
    const stored = space === 'int8' ? data.map(quantize) : data;
    for (let i = 0; i < n; i++) put(c, 's', `p${i}`, data[i]!);
    let found = 0;
    for (let q = 0; q < nq; q++) {
      const query = near(centres[(q * 31) % 200]!, 0.03, r);
      const res = lookup(c, 's', query, 0, { k, threshold: 1 });
      const sims = stored.map((v, i) => [i + 1, dotF(query, v)] as const).sort((a, b) => b[1] - a[1]);
      const truth = new Set(sims.slice(0, k).map((x) => x[0]));
      expect(res.candidateIds.length).toBe(k);
      for (const id of res.candidateIds) if (truth.has(id)) found++;
    }
    expect(found / (nq * k)).toBeGreaterThanOrEqual(0.99);
    c.delete();
  }, 600_000);  // building 20k x 512 takes ~40 s alone; a loaded 2-core machine took 260 s

  it('snapshot round trip gives identical results; corrupt snapshots are rejected', () => {
    const dim = 64;
    const r = rng(3);
    const a = new M.CacheCore({ dimensions: dim, space });
    const vs = Array.from({ length: 500 }, () => randomUnit(dim, r));
    vs.forEach((v, i) => put(a, i % 2 ? 'odd' : 'even', `p${i}`, v, 10, i));
    a.remove(5);
    const snap = a.snapshot(42);
    const b = new M.CacheCore({ dimensions: dim, space });
    const ptr = M._malloc(snap.length);
    M.HEAPU8.set(snap, ptr);
    expect(b.loadSnapshot(ptr, snap.length)).toBe(42);
    M._free(ptr);
    expect(b.stats().entries).toBe(a.stats().entries);
    for (let i = 0; i < 100; i++) {
      const q = near(vs[i]!, 0.05, r);
      const scope = i % 2 ? 'odd' : 'even';
      const x = lookup(a, scope, q), y = lookup(b, scope, q);
      expect([...y.candidateIds]).toEqual([...x.candidateIds]);
      expect([...y.candidateSimilarities]).toEqual([...x.candidateSimilarities]);
    }
    const bad = snap.slice();
    bad[bad.length >> 1]! ^= 0x10;
    const p2 = M._malloc(bad.length);
    M.HEAPU8.set(bad, p2);
    expect(codeOf(() => b.loadSnapshot(p2, bad.length))).toBe('CORRUPT_SNAPSHOT');
    expect(codeOf(() => b.loadSnapshot(p2, 10))).toBe('CORRUPT_SNAPSHOT');
    M._free(p2);
    a.delete();
    b.delete();
  });
});

function dotF(a: Float32Array, b: Float32Array) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe('wasm cache', () => {
  const dim = 32;
  const vs = Array.from({ length: 100 }, (_, i) => randomUnit(dim, rng(100 + i)));

  function evicted(policy: 'lru' | 'lfu' | 'fifo') {
    const c = new M.CacheCore({ dimensions: dim, eviction: policy, maxEntries: 4, evictFraction: 0 });
    for (let i = 0; i < 4; i++) put(c, 's', `p${i}`, vs[i]!, 1, 10 * i);
    for (let t = 0; t < 3; t++) expect(c.lookupExact('s', 'p0', 50 + t).hit).toBe(true);
    expect(c.lookupExact('s', 'p1', 60).hit).toBe(true);
    const out: number[] = [];
    for (let i = 4; i < 7; i++) out.push(...put(c, 's', `p${i}`, vs[i]!, 1, 100 + i).evicted);
    c.delete();
    return out;
  }

  it('evicts in policy order', () => {
    expect(evicted('fifo')).toEqual([1, 2, 3]);
    expect(evicted('lru')).toEqual([3, 4, 1]);
    expect(evicted('lfu')).toEqual([3, 4, 5]);
  });

  it('expires entries after their TTL', () => {
    const c = new M.CacheCore({ dimensions: dim });
    put(c, 's', 'short', vs[0]!, 1, 1000, 500);
    expect(lookup(c, 's', vs[0]!, 1499).hit).toBe(true);
    const r = lookup(c, 's', vs[0]!, 1500);
    expect(r.hit).toBe(false);
    expect([...r.expired]).toEqual([1]);
    c.delete();
  });

  it('holds the byte budget', () => {
    const c = new M.CacheCore({ dimensions: dim, maxBytes: 10000 });
    for (let i = 0; i < 100; i++) {
      put(c, 's', `p${i}`, vs[i]!, 200 + 13 * (i % 7), i);
      expect(c.stats().bytes).toBeLessThanOrEqual(10000);
    }
    expect(c.stats().evictions).toBeGreaterThan(0);
    expect(codeOf(() => put(c, 's', 'huge', vs[0]!, 20000, 200))).toBe('CAPACITY');
    c.delete();
  });

  it('keeps scopes apart', () => {
    const c = new M.CacheCore({ dimensions: dim });
    put(c, 'model=a', 'q', vs[0]!);
    expect(lookup(c, 'model=b', vs[0]!).hit).toBe(false);
    expect(c.lookupExact('model=b', 'q', 0).hit).toBe(false);
    put(c, 'model=b', 'other', vs[1]!);
    const r = lookup(c, 'model=b', vs[0]!);
    expect(r.hit).toBe(false);
    expect([...r.candidateIds]).toEqual([2]);
    expect(lookup(c, 'model=a', vs[0]!).hit).toBe(true);
    c.delete();
  });

  it('rejects bad input with coded errors and keeps nothing of it', () => {
    const c = new M.CacheCore({ dimensions: dim });
    expect(codeOf(() => c.put('s', 'p', dim - 1, 1, 0, 0))).toBe('DIMENSION_MISMATCH');
    const nan = vs[0]!.slice();
    nan[3] = NaN;
    expect(codeOf(() => put(c, 's', 'p', nan))).toBe('NOT_FINITE');
    expect(codeOf(() => put(c, 's', 'p', new Float32Array(dim)))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => lookup(c, 's', vs[0]!, 0, { threshold: 2 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new M.CacheCore({ dimensions: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new M.CacheCore({ dimensions: 8, eviction: 'mru' as 'lru' }))).toBe('INVALID_ARGUMENT');
    expect(c.stats().entries).toBe(0);
    c.delete();
  });

  it('hashes prompts with XXH64', () => {
    expect(M.CacheCore.hashPrompt('a')).toBe('d24ec4f1a98c6e5b');
    expect(M.CacheCore.hashPrompt('')).toBe('ef46db3751d8e999');
  });
});
