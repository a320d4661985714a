// SemanticCache.open({storage: 'opfs', name}) on a page: the cache (wasm core + SQLite on OPFS)
// runs in a dedicated worker (workers/opfs-worker.ts); this object is its proxy.
//
// Several tabs: opfs-sahpool holds its files exclusively, so one tab per cache name owns the
// worker. Ownership is a Web Lock; every other tab sends its calls over a BroadcastChannel to the
// owner, which runs them in its worker and answers. When the owner closes (or its tab goes away,
// which releases the lock), the next tab queued on the lock starts a worker and announces itself;
// callers then resend what was unanswered (the owner drops duplicates it already ran).
//
// Embedding runs on the calling page with the page's embedder; calls carry the vector to the
// worker (so an exact-prompt hit still pays one embedding), and getOrCompute's compute runs here.
import { getOrComputeWith } from './compute.js';
import { toEmbedder, withEmbedderDefaults, type Embedder } from './embedder.js';
import { SemcacheError, throwIfAborted } from './errors.js';
import { decodeError, encodeError, RpcClient } from './rpc.js';
import type {
  ComputeResult,
  EntryInfo,
  FeedbackResult,
  GetOptions,
  GetOrComputeOptions,
  GetResult,
  PutOptions,
  PutResult,
  SemanticCacheOptions,
  SemanticCacheStats,
} from './semantic-cache.js';
import type { ScopeInput } from './scope.js';
import { checkPrompt, checkVector, DEFAULT_MAX_PROMPT_CHARS } from './validate.js';
import type { WorkerOpenArgs } from './workers/opfs-worker.js';

export interface OpfsCacheOptions extends Omit<SemanticCacheOptions, 'store' | 'storage' | 'path' | 'clock' | 'wasm'> {
  storage: 'opfs';
  /** The cache's name: one SQLite database (and one OPFS pool directory) per name and origin. */
  name: string;
  /** The worker script. Default: dist/workers/opfs-worker.js next to this module. */
  workerUrl?: string | URL;
  /** Where the worker imports @sqlite.org/sqlite-wasm from, for pages without a bundler. */
  sqliteUrl?: string;
}

type Pending = { verb: string; args: unknown[]; resolve: (v: unknown) => void; reject: (e: Error) => void; retries: number };
type Msg =
  | { t: 'call'; from: string; id: number; verb: string; args: unknown[] }
  | { t: 'reply'; to: string; id: number; result?: unknown; error?: { code: string; message: string } }
  | { t: 'owner'; from: string };

const LOCAL_ONLY = new Set(['embedder', 'storage', 'name', 'workerUrl', 'sqliteUrl', 'onCorrupt', 'store', 'clock', 'wasm']);
/** Owner-side failures after which a call is worth sending again to the next owner. */
const RETRYABLE = new Set(['CLOSED', 'WORKER_DIED', 'OWNER_GONE']);

export class OpfsSemanticCache {
  readonly dimensions: number;
  threshold = 0;
  private readonly tab = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  private readonly channel: BroadcastChannel;
  private readonly lockAbort = new AbortController();
  private readonly pending = new Map<number, Pending>();
  private readonly served = new Map<string, Promise<unknown>>();
  private nextId = 1;
  private owner = false;
  private closing = false;
  private closed = false;
  private readonly embedded = { calls: 0, ms: 0 };  // this page's embedder, for stats()
  private worker?: Worker;
  private rpc?: RpcClient;
  private ready?: Promise<unknown>;
  private release?: () => void;
  private lockDone?: Promise<unknown>;

  private constructor(
    private readonly o: OpfsCacheOptions,
    private readonly embedder: Embedder,
    dimensions: number,
  ) {
    this.dimensions = dimensions;
    this.channel = new BroadcastChannel(`semcache-opfs:${o.name}`);
    this.channel.onmessage = (e) => this.onChannel(e.data as Msg);
  }

  static async open(o: OpfsCacheOptions): Promise<OpfsSemanticCache> {
    if (typeof o.name !== 'string' || !o.name) throw new SemcacheError('INVALID_ARGUMENT', "storage: 'opfs' needs a name");
    if (typeof navigator === 'undefined' || !navigator.locks || typeof BroadcastChannel === 'undefined' || typeof Worker === 'undefined') {
      throw new SemcacheError('INVALID_ARGUMENT', "storage: 'opfs' needs a browser page with Web Locks, BroadcastChannel and workers");
    }
    if (o.embedder === undefined) throw new SemcacheError('INVALID_ARGUMENT', 'options.embedder is required');
    const embedder = toEmbedder(o.embedder);
    let dimensions = o.dimensions ?? embedder.dimensions;
    if (dimensions === undefined) {
      const [v] = await embedder.embed(['dimension probe']);
      dimensions = v?.length ?? 0;
    }
    const c = new OpfsSemanticCache(o, embedder, dimensions);
    c.lockDone = navigator.locks
      .request(`semcache-opfs:${o.name}`, { signal: c.lockAbort.signal }, () => c.becomeOwner())
      .catch(() => {});
    try {
      const s = await c.call<SemanticCacheStats>('stats', []);
      if (s.dimensions !== dimensions) {
        throw new SemcacheError('STORE_MISMATCH', `the cache '${o.name}' is open with ${s.dimensions}-d vectors in another tab, this page embeds ${dimensions}-d`);
      }
      c.threshold = s.threshold;
    } catch (e) {
      await c.close().catch(() => {});
      throw e;
    }
    return c;
  }

  /** Whether this tab runs the worker (tests and UIs). */
  get isOwner(): boolean {
    return this.owner;
  }

  async get(prompt: string, options: GetOptions = {}): Promise<GetResult> {
    const t0 = performance.now();
    const vector = await this.vectorOf(prompt, options);
    const embedMs = options.vector === undefined ? performance.now() - t0 : 0;
    const r = await this.call<GetResult>('get', [prompt, { ...plain(options), vector }]);
    // The worker timed its part; the embedding happened here.
    if (r.timings) r.timings = { ...r.timings, embedMs, totalMs: performance.now() - t0 };
    return r;
  }

  async put(prompt: string, answer: string, options: PutOptions = {}): Promise<PutResult> {
    const vector = await this.vectorOf(prompt, options);
    return this.call('put', [prompt, answer, { ...plain(options), vector }]);
  }

  /** As SemanticCache.getOrCompute: compute runs on this page; cache failures never fail the call. */
  async getOrCompute(
    prompt: string,
    compute: (prompt: string, options: { signal?: AbortSignal }) => Promise<string> | string,
    options: GetOrComputeOptions = {},
  ): Promise<ComputeResult> {
    return getOrComputeWith(prompt, compute, options, {
      lookup: async () => {
        const vector = await this.vectorOf(prompt, options);
        const r = await this.call<GetResult>('get', [prompt, { ...plain(options), vector: vector.slice() }]);
        return r.hit ? { hit: r } : { miss: vector };
      },
      store: async (answer, vector) => (await this.call<PutResult>('put', [prompt, answer, { ...plain(options), vector }])).id,
      failure: (e) => e as Error,
    });
  }

  /** As SemanticCache.feedback: the entry's threshold offset, persisted with its row. */
  feedback(id: number, verdict: { correct: boolean }): Promise<FeedbackResult> {
    return this.call('feedback', [id, { correct: verdict?.correct }]);
  }

  delete(id: number): Promise<boolean> {
    return this.call('delete', [id]);
  }

  clear(options: { scope?: ScopeInput } = {}): Promise<number> {
    return this.call('clear', [options]);
  }

  entries(options: { scope?: ScopeInput; limit?: number; offset?: number } = {}): Promise<EntryInfo[]> {
    return this.call('entries', [options]);
  }

  /** The worker's stats (asynchronous here, unlike SemanticCache.stats), with this page's
   * embeddings in `embedCalls` and `time.embedMs` (each tab embeds for itself). */
  async stats(): Promise<SemanticCacheStats> {
    const s = await this.call<SemanticCacheStats>('stats', []);
    return { ...s, embedCalls: this.embedded.calls, time: { ...s.time, embedMs: this.embedded.ms } };
  }

  flush(): Promise<void> {
    return this.call('flush', []);
  }

  /** SQLite's PRAGMA integrity_check on the database: 'ok' when sound. */
  integrityCheck(): Promise<string> {
    return this.call('integrityCheck', []);
  }

  /** Rows in the database (not the index): what survived. */
  rowCount(): Promise<number> {
    return this.call('count', []);
  }

  /** The SQLite database's size in bytes. */
  databaseBytes(): Promise<number> {
    return this.call('databaseBytes', []);
  }

  /** Kills the worker without closing anything, as a crash would (tests). */
  terminateWorker(): void {
    this.rpc?.terminate('the worker was terminated');
  }

  /** The owner flushes, closes the database and hands over to the next tab; others just leave. */
  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    try {
      if (this.owner && this.rpc) {
        await this.ready?.catch(() => {});
        await this.rpc.call('close', []).catch((e: SemcacheError) => {
          if (e?.code !== 'WORKER_DIED' && e?.code !== 'CLOSED') throw e;
        });
      }
    } finally {
      this.closed = true;
      this.rpc?.terminate('the cache was closed');
      this.lockAbort.abort();
      this.release?.();
      const left = [...this.pending.values()];
      this.pending.clear();
      for (const p of left) p.reject(new SemcacheError('CLOSED', 'this cache was closed'));
      this.channel.close();
    }
  }

  // ---- internals ----

  private async vectorOf(prompt: string, options: GetOptions): Promise<Float32Array> {
    checkPrompt(prompt, this.o.maxPromptChars ?? DEFAULT_MAX_PROMPT_CHARS);
    throwIfAborted(options.signal);
    if (options.vector !== undefined) return checkVector(options.vector, this.dimensions, 'options.vector').slice();
    let out: ArrayLike<number>[];
    const t0 = performance.now();
    try {
      out = await this.embedder.embed([prompt], { signal: options.signal });
      this.embedded.calls++;
      this.embedded.ms += performance.now() - t0;
    } catch (e) {
      throwIfAborted(options.signal);
      if (e instanceof SemcacheError) throw e;
      throw new SemcacheError('EMBEDDER_FAILED', `the embedder failed: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    if (!Array.isArray(out) || out.length !== 1) throw new SemcacheError('EMBEDDER_FAILED', 'the embedder did not return one vector for one text');
    // A copy: its buffer is transferred to the worker.
    return Float32Array.from(checkVector(out[0], this.dimensions, 'the embedding'));
  }

  private call<T>(verb: string, args: unknown[]): Promise<T> {
    if (this.closed || this.closing) return Promise.reject(new SemcacheError('CLOSED', 'this cache is closed'));
    if (this.owner) return this.local(verb, args) as Promise<T>;
    return new Promise<T>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { verb, args, resolve: resolve as (v: unknown) => void, reject, retries: 0 });
      this.send(id);
    });
  }

  private send(id: number) {
    const p = this.pending.get(id);
    if (p) this.channel.postMessage({ t: 'call', from: this.tab, id, verb: p.verb, args: p.args } satisfies Msg);
  }

  private async local(verb: string, args: unknown[]): Promise<unknown> {
    await this.ready;
    return this.rpc!.call(verb, args);
  }

  /** Runs while this tab holds the lock; resolves (releasing it) when this cache closes. */
  private async becomeOwner(): Promise<void> {
    if (this.closing) return;
    this.owner = true;
    this.worker = new Worker(this.o.workerUrl ?? new URL('./workers/opfs-worker.js', import.meta.url), { type: 'module', name: `semcache-opfs:${this.o.name}` });
    this.rpc = new RpcClient(this.worker);
    const args: WorkerOpenArgs = {
      name: this.o.name,
      dimensions: this.dimensions,
      embedderId: this.embedder.id ?? 'unnamed',
      sqliteUrl: this.o.sqliteUrl,
      // the embedder's calibrated evaluator goes along; a URL crosses as its href
      options: Object.fromEntries(
        Object.entries(withEmbedderDefaults(this.o, this.embedder))
          .filter(([k, v]) => !LOCAL_ONLY.has(k) && typeof v !== 'function')
          .map(([k, v]) => [k, v instanceof URL ? v.href : v]),
      ),
      onCorrupt: this.o.onCorrupt,
    };
    this.ready = this.rpc.call('open', [args]);
    this.ready.catch(() => {});
    // Calls this tab had sent to the previous owner now run here.
    const mine = [...this.pending.values()];
    this.pending.clear();
    for (const p of mine) this.local(p.verb, p.args).then(p.resolve, p.reject);
    await this.ready.then(
      () => this.channel.postMessage({ t: 'owner', from: this.tab } satisfies Msg),
      () => {},
    );
    await new Promise<void>((r) => {
      this.release = r;
      if (this.closed) r();
    });
  }

  private onChannel(m: Msg) {
    if (this.closed) return;
    if (m.t === 'call' && this.owner && !this.closing) {
      const key = `${m.from}:${m.id}`;
      let p = this.served.get(key);
      if (!p) {
        p = this.local(m.verb, m.args);
        this.served.set(key, p);
        if (this.served.size > 4096) this.served.delete(this.served.keys().next().value!);
      }
      p.then(
        (result) => this.reply({ t: 'reply', to: m.from, id: m.id, result }),
        (e) => this.reply({ t: 'reply', to: m.from, id: m.id, error: encodeError(e) }),
      );
    } else if (m.t === 'reply' && m.to === this.tab) {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.error && RETRYABLE.has(m.error.code) && p.retries < 5) {
        p.retries++;  // the owner went away mid-call: the next owner's announcement resends it
        return;
      }
      this.pending.delete(m.id);
      if (m.error) p.reject(decodeError(m.error));
      else p.resolve(m.result);
    } else if (m.t === 'owner' && !this.owner) {
      for (const id of this.pending.keys()) this.send(id);
    }
  }

  private reply(m: Msg) {
    if (this.closed) return;
    try {
      this.channel.postMessage(m);
    } catch (e) {
      if (m.t === 'reply') this.channel.postMessage({ t: 'reply', to: m.to, id: m.id, error: encodeError(e) } satisfies Msg);
    }
  }
}

/** The options a worker can receive: data only (no signal, no callbacks). */
function plain(o: GetOrComputeOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['scope', 'threshold', 'ttl', 'metadata'] as const) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
