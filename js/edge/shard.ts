// The inside of one cache shard's Durable Object: a SemanticCache (wasm core in memory) over
// the object's SQLite storage, opened lazily and rebuilt from the rows (or the snapshot) after
// every start. The worker reaches it through `call(op, args)` (JS RPC).
import type { Embedder } from '../embedder.js';
import { remoteEmbedder } from '../embedders/remote.js';
import { SemcacheError } from '../errors.js';
import type { GetResult } from '../api.js';
import type { Joined, Leader } from '../flights.js';
import { INTERNAL } from '../internal.js';
import { encodeError, type RpcError } from '../rpc.js';
import { SemanticCache } from '../semantic-cache.js';
import type { TransferEntry } from '../transfer/format.js';
import type { ExportFilter } from '../transfer/transfer.js';
import { DurableObjectStore, type DurableObjectStorageLike } from '../stores/durable-object.js';
import type { LoadCoreOptions } from '../wasm.js';
import { edgeConfig, type EdgeEnv } from './config.js';

/** What crosses the RPC boundary: js/rpc.ts's response without the id (workerd's RPC pairs
 * calls and answers itself): a result, or an error's code and message (workerd keeps only an
 * Error's message across RPC, and the handler maps codes to HTTP statuses). */
export type ShardReply = { result: unknown; error?: undefined } | { error: RpcError };
export type ShardOp = 'get' | 'put' | 'clear' | 'stats' | 'flush' | 'exportOpen' | 'exportNext' | 'importBatch' | 'importEnd' | 'begin' | 'piece' | 'done' | 'fail' | 'next';

/** What 'begin' answers across RPC: a hit, or a miss with a token for its flight (the worker
 * that leads sends the pieces and the end; one that joined asks for them with 'next'). */
export type ShardBegin = GetResult & { lead?: string; join?: { token: string; similarity: number; prompt: string } };

export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike & {
    getAlarm(): Promise<number | null>;
    setAlarm(at: number): Promise<void>;
  };
}

/**
 * One wasm core module per isolate, shared by every shard the isolate hosts: several objects can
 * live in one isolate, and each module starts with a 32 MiB heap (the isolate's limit is 128 MB).
 * Caches on one module are independent CacheCore objects; JS runs one call at a time.
 */
const sharedModules = new WeakMap<object, Promise<unknown>>();
function sharedWasm(wasm: LoadCoreOptions): LoadCoreOptions {
  const factory = wasm.factory;
  if (!factory) return wasm;
  return {
    ...wasm,
    factory: (options) => {
      let m = sharedModules.get(factory);
      if (!m) {
        m = factory(options);
        sharedModules.set(factory, m);
        m.catch(() => sharedModules.delete(factory));
      }
      return m as ReturnType<typeof factory>;
    },
  };
}

/**
 * The shards of this isolate with an open cache, least recently used first. workerd has no
 * finalizers and tells an object nothing when it is evicted, so the C++ memory of a shard that
 * went away would stay in the shared module: past MAX_SHARDS_PER_ISOLATE the least recently
 * used idle shard's cache is closed (its rows stay; it reopens from them when asked again).
 */
const live = new Set<ShardState>();

/** Loads an embedder that runs in the isolate (EMBEDDER use-lite), on the shards' wasm core. */
export type LocalEmbedderLoader = (wasm: LoadCoreOptions) => Promise<Embedder>;

/** One local embedder per isolate, shared by its shards like the wasm core: ORT's heap and the
 * model's weights are loaded once. A failed load is forgotten, so the next request tries again. */
const localEmbedders = new WeakMap<LocalEmbedderLoader, Promise<Embedder>>();
function sharedEmbedder(load: LocalEmbedderLoader, wasm: LoadCoreOptions): Promise<Embedder> {
  let e = localEmbedders.get(load);
  if (!e) {
    e = load(wasm);
    localEmbedders.set(load, e);
    e.catch(() => localEmbedders.delete(load));
  }
  return e;
}

export class ShardState {
  private cache?: Promise<SemanticCache>;
  private readonly wasm: LoadCoreOptions;
  private store?: DurableObjectStore;
  private busy = 0;
  /** This object's misses in flight, by token: the leaders' (fed by their workers' RPCs) and the
   * joined calls' (read with 'next'). A token whose worker vanished is swept after an hour. */
  private readonly flights = new Map<string, { leader?: Leader; joined?: Joined; since: number }>();

  constructor(
    private readonly ctx: DurableObjectStateLike,
    private readonly env: EdgeEnv,
    wasm: LoadCoreOptions,
    private readonly localEmbedder?: LocalEmbedderLoader,
  ) {
    this.wasm = sharedWasm(wasm);
  }

  async call(op: ShardOp, args: unknown[]): Promise<ShardReply> {
    this.busy++;
    live.delete(this);
    live.add(this);
    try {
      const cache = await this.open();
      let value: unknown;
      switch (op) {
        case 'get':
          value = await cache.get(args[0] as string, args[1] as object);
          break;
        case 'put':
          value = await cache.put(args[0] as string, args[1] as string, args[2] as object);
          await this.scheduleSnapshot();
          break;
        case 'clear':
          value = await cache.clear(args[0] as object);
          await this.scheduleSnapshot();
          break;
        case 'stats': {
          // Whether a restart would load the index snapshot (true) or rebuild it from the rows.
          const { seq, snapshotSeq } = this.store!.seqs();
          value = { ...(await cache.stats()), snapshotCurrent: snapshotSeq === seq };
          break;
        }
        case 'flush':
          await cache.flush();
          value = null;
          break;
        // cache.export/import of the tenant, a shard at a time (js/edge/worker.ts drives them).
        case 'exportOpen':
          value = cache[INTERNAL].transfer.exportOpen(args[0] as ExportFilter);
          break;
        case 'exportNext':
          value = await cache[INTERNAL].transfer.exportNext(args[0] as number, args[1] as number);
          break;
        case 'importBatch':
          value = await cache[INTERNAL].transfer.importBatch(args[0] as number, args[1] as TransferEntry[]);
          await this.scheduleSnapshot();
          break;
        case 'importEnd':
          await cache[INTERNAL].transfer.importEnd(args[0] as number, args[1] as boolean);
          value = null;
          break;
        case 'begin':
          value = this.begin(await cache.begin(args[0] as string, args[1] as object));
          break;
        case 'piece':
          for (const p of args[1] as string[]) this.flights.get(args[0] as string)?.leader?.piece(p);
          value = null;
          break;
        case 'done': {
          const leader = this.take(args[0] as string)?.leader;
          if (!leader) throw new SemcacheError('INVALID_ARGUMENT', 'no such flight (this object restarted since its begin)');
          value = await leader.done(args[1] as string, args[2] as object);
          await this.scheduleSnapshot();
          break;
        }
        case 'fail':
          this.take(args[0] as string)?.leader?.fail(args[1] as string);
          value = null;
          break;
        case 'next': {
          const joined = this.flights.get(args[0] as string)?.joined;
          value = joined ? await joined.next(args[1] as number) : { pieces: [], end: { failed: 'no such flight' } };
          if ((value as { end?: unknown }).end) this.take(args[0] as string);
          break;
        }
        default:
          throw new SemcacheError('INVALID_ARGUMENT', `unknown shard operation ${String(op)}`);
      }
      return { result: value };
    } catch (e) {
      return { error: encodeError(e) };
    } finally {
      this.busy--;
    }
  }

  /** A begin result that can cross RPC: its leader or joined call kept here under a token. */
  private begin(r: Awaited<ReturnType<SemanticCache['begin']>>): ShardBegin {
    const now = Date.now();
    for (const [t, f] of this.flights) if (now - f.since > 3_600_000) this.take(t)?.leader?.fail('abandoned');
    if (r.hit) return r;
    const token = crypto.randomUUID();
    const { lead, join, ...miss } = r;
    this.flights.set(token, { leader: lead, joined: join, since: now });
    return join ? { ...miss, join: { token, similarity: join.similarity, prompt: join.prompt } } : { ...miss, lead: token };
  }

  private take(token: string) {
    const f = this.flights.get(token);
    this.flights.delete(token);
    return f;
  }

  /** Whether this shard holds an open cache (for tests and stats). */
  get isOpen(): boolean {
    return this.cache !== undefined;
  }

  /** Closes the cache to free its wasm memory; the next call reopens it from the rows. */
  private release() {
    const cache = this.cache;
    this.cache = undefined;
    live.delete(this);
    // close() flushes first; from another object's request that write may be refused, and
    // nothing is lost by that: every row is already durable.
    void cache?.then((c) => c.close()).catch(() => {});
  }

  private evictOthers(max: number) {
    for (const other of live) {
      if (live.size <= max) return;
      if (other !== this && other.busy === 0 && other.cache) other.release();
    }
  }

  /** The object's alarm: writes the index snapshot (and pending LRU bookkeeping) so the next
   * start loads the index instead of re-inserting every row. */
  async alarm(): Promise<void> {
    if (!this.cache) return;
    await (await this.cache).flush();
  }

  private open(): Promise<SemanticCache> {
    this.cache ??= this.openCache().catch((e) => {
      this.cache = undefined;  // the next request tries again (e.g. the embeddings API was down)
      live.delete(this);
      throw e;
    });
    return this.cache;
  }

  private async openCache(): Promise<SemanticCache> {
    const cfg = edgeConfig(this.env);
    this.evictOthers(cfg.maxShardsPerIsolate);
    // A store object per open: a released cache's close() must not close its successor's store.
    const store = new DurableObjectStore(this.ctx.storage);
    this.store = store;
    let embedder: Embedder;
    let dimensions = cfg.embeddingsDimensions;
    if (cfg.embedder === 'use-lite') {
      if (!this.localEmbedder) {
        throw new SemcacheError('CONFIG', 'edge worker configuration: EMBEDDER use-lite needs the worker entry that carries the model (workers/edge/worker-onnx.mjs)');
      }
      embedder = await sharedEmbedder(this.localEmbedder, this.wasm);
      dimensions = embedder.dimensions;
    } else {
      embedder = remoteEmbedder({
        url: cfg.embeddingsUrl,
        model: cfg.embeddingsModel,
        apiKey: this.env.EMBEDDINGS_API_KEY,
        dimensions: cfg.embeddingsDimensions,
        sendDimensions: cfg.sendDimensions,
        timeoutMs: cfg.embeddingsTimeoutMs,
      });
      // Without configured dimensions, the rows already here say what they are: no probe call.
      if (dimensions === undefined) {
        const info = store.peekInfo();
        if (info && info.embedder === embedder.id) dimensions = info.dimensions;
      }
    }
    return SemanticCache.open({
      embedder: memoEmbedder(embedder, 256),
      dimensions,
      store,
      threshold: cfg.threshold,
      space: cfg.space,
      maxEntries: cfg.maxEntries,
      ttl: cfg.ttlMs,
      // DO SQL refuses rows over 2 MB; the answer is stored twice at most (text + stream pieces).
      maxAnswerBytes: 512 * 1024,
      // The embeddings model changed (or EMBEDDER did): the old rows are useless, start over
      // instead of failing.
      resetOnMismatch: true,
      snapshotEvery: 0,
      wasm: this.wasm,
    });
  }

  private async scheduleSnapshot() {
    const cfg = edgeConfig(this.env);
    if (cfg.snapshotDelayMs <= 0) return;
    const at = await this.ctx.storage.getAlarm();
    if (at === null) await this.ctx.storage.setAlarm(Date.now() + cfg.snapshotDelayMs);
  }
}

/**
 * Remembers the last `size` embeddings: a miss embeds the prompt for the lookup and again for the
 * put that follows the upstream's answer; this makes that one embeddings call, not two.
 */
export function memoEmbedder(inner: Embedder, size: number): Embedder {
  const memo = new Map<string, ArrayLike<number>>();
  return {
    id: inner.id,
    dimensions: inner.dimensions,
    defaultThreshold: inner.defaultThreshold,
    defaultEvaluator: inner.defaultEvaluator,
    async embed(texts, options) {
      const found = new Map<string, ArrayLike<number>>();
      for (const t of texts) {
        const v = memo.get(t);
        if (v) found.set(t, v);
      }
      const missing = [...new Set(texts.filter((t) => !found.has(t)))];
      if (missing.length) {
        const vs = await inner.embed(missing, options);
        if (!Array.isArray(vs) || vs.length !== missing.length) return vs;  // let the cache report the bad shape
        missing.forEach((t, i) => {
          found.set(t, vs[i]!);
          memo.set(t, vs[i]!);
        });
        while (memo.size > size) memo.delete(memo.keys().next().value!);
      }
      return texts.map((t) => found.get(t)!);
    },
  };
}
