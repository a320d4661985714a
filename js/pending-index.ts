// The prompts in flight (js/flights.ts) in an index of their own: a second CacheCore configured
// like the cache's, so "would this prompt hit that one" is decided by the same code as a hit
// (exact prompt first, then the evaluator: cosine, margin or learned, with the same threshold).
import type { PendingIndex } from './flights.js';
import type { CacheCore, CoreConfig, SemcacheCoreModule } from './wasm/semcache_core.mjs';

export function corePendingIndex(
  m: SemcacheCoreModule,
  config: CoreConfig,
  /** Readies the new core like the cache's own (the learned evaluator's model). */
  prepare?: (core: CacheCore) => void,
): PendingIndex & { close(): void } {
  // never evicts: an entry leaves when its flight ends
  const core = new m.CacheCore({ ...config, maxEntries: 0, maxBytes: 0 });
  try {
    prepare?.(core);
  } catch (e) {
    core.delete();
    throw e;
  }
  let closed = false;
  const setVector = (v: Float32Array) => m.HEAPF32.set(v, core.vectorBuffer() >> 2);
  return {
    add(scope, prompt, vector) {
      setVector(vector);
      return core.put(scope, prompt, vector.length, 0, Date.now(), 0).id;
    },
    remove(id) {
      if (!closed) core.remove(id);  // a flight may end after its cache closed
    },
    match(scope, prompt, vector, threshold) {
      const now = Date.now();
      const exact = core.lookupExact(scope, prompt, now);
      if (exact.hit) return { id: exact.id, similarity: 1, score: 1 };
      setVector(vector);
      const r = core.lookup(scope, prompt, vector.length, now, threshold === undefined ? {} : { threshold });
      return r.hit ? { id: r.id, similarity: r.similarity, score: r.score } : undefined;
    },
    close() {
      if (!closed) core.delete();
      closed = true;
    },
  };
}
