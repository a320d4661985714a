// A SemanticCache's misses in flight (js/flights.ts): the registry, and the index of the prompts
// in flight. That index is a second CacheCore configured like the cache's own (the learned
// evaluator's model too), so "would this prompt hit that one" is decided by the same code as a
// hit: exact prompt first, then the evaluator (cosine, margin or learned) at the same threshold.
import type { GetResult } from './api.js';
import { core } from './errors.js';
import { Flights, soloLeader, type BeginResult, type PendingIndex } from './flights.js';
import type { ResolvedOptions } from './options.js';
import { checkAnswer } from './validate.js';
import { inBand } from './verifier.js';
import type { CacheCore, SemcacheCoreModule } from './wasm/semcache_core.mjs';

export class CacheFlights {
  private made?: Promise<{ flights: Flights; index: ReturnType<typeof coreIndex> }>;
  private flights?: Flights;
  private closed = false;

  constructor(
    private readonly m: SemcacheCoreModule,
    private readonly o: ResolvedOptions,
    /** Readies the second core like the cache's (loads the learned evaluator's model). */
    private readonly prepare?: (c: CacheCore) => Promise<unknown>,
  ) {}

  /**
   * Looks `prompt` up (`lookup`, the cache's get); a miss is joined to a similar miss in flight,
   * or is in flight itself, its answer stored by `insert` (cache.begin).
   */
  async start(
    prompt: string,
    scope: string,
    threshold: number | undefined,
    lookup: () => Promise<{ result: GetResult; vector?: Float32Array }>,
    insert: (answer: string, vector: Float32Array, options: { metadata?: unknown; ttl?: number }) => Promise<{ id: number }>,
  ): Promise<{ result: BeginResult; vector?: Float32Array }> {
    for (let attempt = 0; ; attempt++) {
      const endedBefore = this.flights?.ended ?? 0;
      const { result, vector } = await lookup();
      if (result.hit) return { result };
      const store = async (answer: string, o: { metadata?: unknown; ttl?: number }) => {
        checkAnswer(answer, this.o.maxAnswerBytes);
        return insert(answer, vector!, o);
      };
      if (this.o.joinWaitMs === 0) return { result: { ...result, lead: soloLeader(store) }, vector };
      // made once; every caller resumes in the order it arrived, so the first to miss leads
      const { flights } = await (this.made ??= this.make());
      // in the verifier's band a hit needs its word, which an answer not yet given cannot have
      const v = this.o.verifier;
      const join = core(() => flights.join(scope, prompt, vector!, threshold, (score) => !(v && inBand(v, score))));
      if (join) return { result: { ...result, join }, vector };
      // A flight that ended between our lookup and now has stored its answer where that lookup
      // could not see it and is no longer joinable: look again rather than call the LLM a second
      // time for the same question. (Only possible when something slow sat between the two: the
      // verifier's call, or the first miss readying the registry.) Bounded: under steady churn
      // of other flights, lead after a few tries.
      if (flights.ended !== endedBefore && attempt < 3) continue;
      return { result: { ...result, lead: core(() => flights.lead(scope, prompt, vector!, store)) }, vector };
    }
  }

  close() {
    this.closed = true;
    void this.made?.then((f) => f.index.close(), () => {});
  }

  private async make() {
    const index = coreIndex(this.m, this.o.core);
    try {
      await this.prepare?.(index.core);
    } catch (e) {
      index.close();
      throw e;
    }
    if (this.closed) index.close();
    this.flights = new Flights(index, this.o.joinWaitMs, this.o.clock);
    return { flights: this.flights, index };
  }
}

/** The prompts in flight in a core of their own (never evicting: an entry leaves when its
 * flight ends). */
function coreIndex(m: SemcacheCoreModule, config: ResolvedOptions['core']): PendingIndex & { core: CacheCore; close(): void } {
  const c = core(() => new m.CacheCore({ ...config, maxEntries: 0, maxBytes: 0 }));
  let closed = false;
  const setVector = (v: Float32Array) => m.HEAPF32.set(v, c.vectorBuffer() >> 2);
  return {
    core: c,
    add(scope, prompt, vector) {
      setVector(vector);
      return c.put(scope, prompt, vector.length, 0, Date.now(), 0).id;
    },
    remove(id) {
      if (!closed) c.remove(id);  // a flight may end after its cache closed
    },
    match(scope, prompt, vector, threshold) {
      const now = Date.now();
      const exact = c.lookupExact(scope, prompt, now);
      if (exact.hit) return { id: exact.id, similarity: 1, score: 1 };
      setVector(vector);
      const r = c.lookup(scope, prompt, vector.length, now, threshold === undefined ? {} : { threshold });
      return r.hit ? { id: r.id, similarity: r.similarity, score: r.score } : undefined;
    },
    close() {
      if (!closed) c.delete();
      closed = true;
    },
  };
}
