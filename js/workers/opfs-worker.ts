// The cache's home in a browser: a dedicated worker holding the wasm core and SQLite on OPFS
// (opfs-sahpool VFS, which needs no COOP/COEP but owns its files exclusively: one worker per
// cache name per origin; js/opfs.ts elects which tab runs it). It speaks js/rpc.ts with the verbs
// of opfs-protocol.ts. Embedding happens on the calling page (every get/put arrives with its
// vector) or here, with the model the page named (opfs-embedder.ts); a page's verifier is asked
// through an event of the lookup.
/// <reference lib="webworker" />
import type { GetOptions, VerifierOptions } from '../api.js';
import type { Embedder } from '../embedder.js';
import { SemcacheError } from '../errors.js';
import { INTERNAL } from '../internal.js';
import { serveRpc, type RpcContext } from '../rpc.js';
import { SemanticCache } from '../semantic-cache.js';
import type { SnapshotSink, StoreBatch, StoreSnapshot } from '../store.js';
import { PAGE_SIZE } from '../stores/sqlite-schema.js';
import { SqliteStore } from '../stores/sqlite-store.js';
import { CALL_VERIFIER } from '../verifier.js';
import { loadCore } from '../wasm.js';
import { StorageBudget } from './opfs-budget.js';
import { ChangeAnnouncer, RowAnnouncer } from './opfs-changes.js';
import { OpfsSnapshotFiles } from './opfs-snapshot-files.js';
import { adapt, useLowLevel, type Sqlite3Db, type Sqlite3Low } from './opfs-sqlite.js';
import type { OpfsEvents, OpfsProtocol, VerifyEvent, WireGetOptions } from './opfs-protocol.js';

interface PoolUtil {
  OpfsSAHPoolDb: new (file: string) => Sqlite3Db;
  getCapacity(): number;
  getFileCount(): number;
  reduceCapacity(n: number): Promise<number>;
  unlink(file: string): boolean;
  pauseVfs(): PoolUtil;
  getFileNames(): string[];
}

const DB_FILE = '/semcache.sqlite3';
const vfsName = (name: string) => `semcache-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;

/** Installs the pool, retrying while another worker (a closing tab) still holds its files. */
async function installPool(sqliteUrl: string | undefined, name: string): Promise<PoolUtil> {
  installLogger();
  const mod = sqliteUrl ? await import(/* @vite-ignore */ sqliteUrl) : await import('@sqlite.org/sqlite-wasm');
  const sqlite3 = await (mod.default as () => Promise<Sqlite3Low & { installOpfsSAHPoolVfs(o: object): Promise<PoolUtil> }>)();
  useLowLevel(sqlite3);
  const vfs = vfsName(name);
  const deadline = Date.now() + 10_000;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    try {
      return await sqlite3.installOpfsSAHPoolVfs({ name: vfs, directory: `.${vfs}`, initialCapacity: 6, preserveOnInitFailure: true, forceReinitIfPreviouslyFailed: true });
    } catch (e) {
      const busy = /NoModificationAllowed|InvalidState|access handle/i.test(`${(e as Error)?.name} ${(e as Error)?.message}`);
      if (!busy || Date.now() > deadline) {
        throw new SemcacheError(busy ? 'STORE_BUSY' : 'STORE_FAILED', `cannot open the OPFS pool for cache '${name}': ${(e as Error)?.message ?? e}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/**
 * opfs-sahpool turns every failed write, QuotaExceededError included, into SQLITE_IOERR, and logs
 * the DOM error through sqlite3's configured error logger. The logger set below (sqlite3ApiConfig,
 * read when the module initializes) counts quota errors, so a write that failed on one surfaces as
 * QUOTA_EXCEEDED: the cache then evicts and retries.
 */
let quotaErrors = 0;
function installLogger() {
  const g = globalThis as { sqlite3ApiConfig?: Record<string, unknown> };
  g.sqlite3ApiConfig = {
    ...g.sqlite3ApiConfig,
    error: (...args: unknown[]) => {
      if (args.some((x) => (x as Error)?.name === 'QuotaExceededError' || /QuotaExceededError/.test(String(x)))) quotaErrors++;
      console.error(...args);
    },
  };
}

class OpfsStore extends SqliteStore {
  /** Set when the database runs in WAL mode (see open()); cleared by leaveWal(). */
  wal = false;
  pool?: PoolUtil;

  override async apply(batch: StoreBatch) {
    let before = quotaErrors;
    try {
      return await super.apply(batch);
    } catch (e) {
      const err = asQuota(e, before);
      if ((err as SemcacheError)?.code !== 'QUOTA_EXCEEDED' || !this.wal || !(await this.leaveWal())) throw err;
      before = quotaErrors;
      try {
        return await super.apply(batch);
      } catch (e2) {
        throw asQuota(e2, before);
      }
    }
  }

  /**
   * Out of quota in WAL mode. Committed pages wait in the WAL for a checkpoint that must grow the
   * database file, which the quota no longer allows, and deleting rows only appends to the WAL:
   * evictions cannot make room. So the pool gives back its spare slots (each holds quota), the
   * WAL is checkpointed and dropped, and this session goes on with a rollback journal, where a
   * failed write rolls back and evicted pages are reused in place. The next open uses WAL again.
   */
  private async leaveWal(): Promise<boolean> {
    const persist = () => {
      try {
        const s = this.db!.prepare('PRAGMA journal_mode = PERSIST');
        try {
          return String(s.get([])?.[0]).toLowerCase() === 'persist';
        } finally {
          s.finalize();
        }
      } catch {
        return false;
      }
    };
    let ok = persist();
    if (!ok && this.pool) {
      // Keep two slots: the rollback journal and one temporary file.
      const spare = this.pool.getCapacity() - this.pool.getFileCount() - 2;
      if (spare > 0) await this.pool.reduceCapacity(spare).catch(() => 0);
      ok = persist();
    }
    if (ok) this.wal = false;
    return ok;
  }

  override async saveSnapshot(s: StoreSnapshot) {
    const before = quotaErrors;
    try {
      return await super.saveSnapshot(s);
    } catch (e) {
      throw asQuota(e, before);
    }
  }

  override async beginSnapshot(): Promise<SnapshotSink> {
    const sink = await super.beginSnapshot();
    const quota = async (f: () => Promise<void>) => {
      const before = quotaErrors;
      try {
        await f();
      } catch (e) {
        throw asQuota(e, before);
      }
    };
    return { write: (c) => quota(() => sink.write(c)), commit: (seq) => quota(() => sink.commit(seq)), abort: () => sink.abort() };
  }
}

function asQuota(e: unknown, before: number): unknown {
  const err = e as SemcacheError;
  if (err?.code !== 'STORE_FAILED' || quotaErrors === before) return e;
  return new SemcacheError('QUOTA_EXCEEDED', `${err.message}: the origin's storage quota is exhausted`, { cause: e });
}

let cache: SemanticCache | undefined;
let store: OpfsStore | undefined;
let pool: PoolUtil | undefined;
let budget: StorageBudget | undefined;
let changes: ChangeAnnouncer | undefined;
let rowStream: RowAnnouncer | undefined;

/** Runs a write verb, then lets the storage budget look at the database's size. */
async function written<T>(p: Promise<T>): Promise<T> {
  const r = await p;
  void budget?.afterWrite();
  return r;
}

/** A write's result with the store's position after it: a page's copy of the entries answers
 * again once it has applied that batch (js/opfs-page-index.ts). */
async function afterWrite<T>(p: Promise<T>): Promise<{ value: T; seq: number; epoch: number }> {
  const value = await p;
  return { value, seq: open()[INTERNAL].seq(), epoch: rowStream!.epoch };
}

const noEmbedder = {
  id: 'page',
  embed: async (): Promise<never> => {
    throw new SemcacheError('EMBEDDER_FAILED', 'the OPFS worker has no embedder: calls must carry their vector');
  },
};

function open(): SemanticCache {
  if (!cache) throw new SemcacheError('CLOSED', 'the OPFS cache is not open');
  return cache;
}

/** Verifier questions sent to pages, by token, until their verdict comes (or time runs out). */
const asked = new Map<number, { resolve: (ok: boolean) => void; reject: (e: Error) => void }>();
let nextToken = 1;

/** The calling page's verifier: each question goes to it as an event of its lookup. */
function pageVerifier(ctx: RpcContext<VerifyEvent>, band: [number, number], timeoutMs: number | undefined): VerifierOptions {
  return {
    band,
    timeoutMs,
    fn: (query, cachedPrompt, cachedAnswer, { signal }) =>
      new Promise<boolean>((resolve, reject) => {
        const token = nextToken++;
        asked.set(token, { resolve, reject });
        signal.addEventListener('abort', () => asked.delete(token), { once: true });
        ctx.emit({ token, query, cachedPrompt, cachedAnswer });
      }),
  };
}

serveRpc<OpfsProtocol, OpfsEvents>(self as unknown as DedicatedWorkerGlobalScope, {
  async open(a) {
    if (cache) throw new SemcacheError('INVALID_ARGUMENT', 'this worker already holds an open cache');
    // Fetch and compile the core while SQLite loads (SemanticCache.open reuses the shared promise).
    loadCore().catch(() => {});
    pool = await installPool(a.sqliteUrl, a.name);
    const p = pool;
    const files = await OpfsSnapshotFiles.open(`.${vfsName(a.name)}-snapshots`);
    const st: OpfsStore = new OpfsStore(
      'opfs',
      `opfs:${a.name}`,
      () => {
        const db = new p.OpfsSAHPoolDb(DB_FILE);
        // WAL without shared memory (opfs-sahpool has none): SQLite allows it in EXCLUSIVE locking
        // mode, which this worker has anyway (the pool owns its files). A commit appends to the
        // WAL and syncs it once. With a rollback journal (PERSIST) a commit syncs the journal and
        // the database: measured here with 34-row commits between bursts of CPU work (as group
        // commits come), 13.8 ms per commit against 5.8 ms in WAL. synchronous = FULL: every
        // acknowledged commit is on disk. The mode is set before the first read, on every open.
        try {
          // auto_vacuum (new databases only) lets the storage budget give evicted pages back; it
          // reads the file, so it comes after the locking mode (a WAL without shared memory).
          db.exec(`PRAGMA page_size = ${PAGE_SIZE}; PRAGMA locking_mode = EXCLUSIVE; PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 4194304;`);
          const mode = db.prepare('PRAGMA journal_mode');
          let got: unknown;
          try {
            mode.step();
            got = mode.get(0);
          } finally {
            mode.finalize();
          }
          if (String(got).toLowerCase() !== 'wal') throw new SemcacheError('STORE_FAILED', `opfs:${a.name}: SQLite refused WAL mode (journal_mode is ${String(got)})`);
        } catch (e) {
          db.close();
          throw e;
        }
        st.wal = true;
        return adapt(db);
      },
      () => {
        p.unlink(DB_FILE);
        p.unlink(`${DB_FILE}-journal`);
        p.unlink(`${DB_FILE}-wal`);
      },
      // Snapshots go to plain files (opfs-snapshot-files.ts); chunks in a database from before
      // them are read once and dropped by the first snapshot here.
      { onCorrupt: a.onCorrupt, snapshotFiles: files },
    );
    st.pool = p;
    store = st;
    // The worker's own model, or the page's id and length (its calls carry their vectors).
    const embedder: Embedder = a.embedder
      ? await import('./opfs-embedder.js').then((m) => m.loadWorkerEmbedder(a.embedder!, (p) => this.emit(p)))
      : { ...noEmbedder, id: a.embedderId, dimensions: a.dimensions, defaultThreshold: a.defaultThreshold };
    const c = await SemanticCache.open({ ...a.options, embedder, dimensions: a.embedder ? undefined : a.dimensions, store });
    cache = c;
    changes = new ChangeAnnouncer(a.name, c);
    rowStream = new RowAnnouncer(a.name, c);
    budget = new StorageBudget(a.storageShare, {
      pages: () => st.pages(),
      releaseFreePages: () => st.releaseFreePages(),
      snapshotBytes: () => files.bytes(),
      entries: () => c[INTERNAL].entries(),
      evict: (n) => c[INTERNAL].evict(n),
      flush: () => c.flush(),
    });
    await budget.afterWrite();  // the quota may have shrunk since the last session
    return { dimensions: c.dimensions, threshold: c.threshold, embedder: embedder.id ?? 'unnamed' };
  },
  async get(prompt, { verifier, ...options }: WireGetOptions) {
    const o: GetOptions & { [CALL_VERIFIER]?: VerifierOptions } = options;
    if (verifier) o[CALL_VERIFIER] = pageVerifier(this, verifier.band, verifier.timeoutMs);
    const [c, announce] = [open(), changes!];  // CLOSED before anything else when closed
    const before = announce.seq;
    const { result: r, vector } = await c[INTERNAL].lookup(prompt, o);
    const result = { ...r, seq: c[INTERNAL].seq(), epoch: rowStream!.epoch };
    if (result.hit && result.exact) {
      const memo = cache === c ? announce.stamp(result.id, before) : undefined;
      return memo ? { ...result, memo } : result;
    }
    // embedded here: the page's put after this miss brings it back instead of embedding again
    return !result.hit && vector && options.vector === undefined ? { ...result, vector } : result;
  },
  verdict(token, verdict) {
    const a = asked.get(token);
    asked.delete(token);
    if (verdict === true || verdict === false) a?.resolve(verdict);
    else a?.reject(new Error(verdict.error));
  },
  async put(prompt, answer, options) {
    const [c, announce] = [open(), changes!];
    const before = announce.seq;
    const r = { ...(await written(c.put(prompt, answer, options))), seq: c[INTERNAL].seq(), epoch: rowStream!.epoch };
    const memo = cache === c ? announce.stamp(r.id, before) : undefined;
    return memo ? { ...r, memo } : r;
  },
  exactHits: (hits) => open()[INTERNAL].noteExactHits(hits),
  pageRows: async (limits) => ({ ...(await open()[INTERNAL].rows(limits)), epoch: rowStream!.epoch }),
  pageHits: (hits) => open()[INTERNAL].noteHits(hits),
  delete: (id) => afterWrite(open().delete(id)),
  feedback: (id, verdict) => afterWrite(open().feedback(id, verdict)),
  clear: (options) => afterWrite(open().clear(options)),
  entries: (options) => open().entries(options),
  stats: async () => ({ ...(await open().stats()), storage: await budget!.info() }),
  exportOpen: (filter) => open()[INTERNAL].transfer.exportOpen(filter),
  exportNext: (session, limit) => open()[INTERNAL].transfer.exportNext(session, limit),
  importBatch: (token, entries) => afterWrite(written(open()[INTERNAL].transfer.importBatch(token, entries))),
  importEnd: (token, commit) => afterWrite(open()[INTERNAL].transfer.importEnd(token, commit)),
  flush: () => open().flush(),
  integrityCheck: () => {
    open();
    return store!.integrityCheck();
  },
  databaseBytes: () => {
    open();
    return store!.databaseBytes();
  },
  count: () => {
    open();
    return store!.count();
  },
  async close() {
    const c = cache;
    cache = undefined;
    try {
      await budget?.afterWrite();
      budget = undefined;
      await c?.close();
      changes?.close();
      changes = undefined;
      rowStream?.close();
      rowStream = undefined;
    } finally {
      // Let the next owner (another tab's worker) take the files now, not when this one is collected.
      pool?.pauseVfs();
      pool = undefined;
    }
  },
});
