// The edge worker's fetch: the shared handler (js/server/handler.ts) with the cache in Durable
// Objects. Each tenant has its own objects (`${tenant}#${shard}`), so no lookup can ever reach
// another tenant's rows; a tenant's scopes are spread over SHARDS_PER_TENANT objects by scope key.
// Similar misses share one upstream call per object: the object keeps the misses in flight, the
// worker that leads sends it the answer's pieces, the workers that joined ask it for them.
import type { SemcacheError } from '../errors.js';
import { decodeError } from '../rpc.js';
import { scopeKey, type ScopeInput } from '../scope.js';
import type { SemanticCacheStats } from '../api.js';
import type { TransferEntry, TransferInfo } from '../transfer/format.js';
import { exportFilter, exportStream, importInto, type ExportFilter } from '../transfer/transfer.js';
import { createHandler, remoteUpstream, type HandlerCache } from '../server/handler.js';
import { edgeConfig, type DurableObjectNamespaceLike, type EdgeEnv } from './config.js';
import type { FlightProgress, Leader } from '../flights.js';
import type { ShardBegin, ShardOp, ShardReply } from './shard.js';

export interface ExecutionContextLike {
  waitUntil(p: Promise<unknown>): void;
}

/** The worker's `fetch(request, env, ctx)`. */
export function createEdgeFetch(options: { onCacheError?: (e: Error, where: string) => void } = {}) {
  const onCacheError = options.onCacheError ?? ((e: Error, where: string) => console.error(`semcache cache ${where} failed: ${e.message}`));
  // One handler per env (an isolate sees the same env object): hashing the tenant tokens and
  // importing the credential key happen once, not per request.
  const handlers = new WeakMap<EdgeEnv, ReturnType<typeof createHandler>>();
  const handlerFor = (env: EdgeEnv) => {
    let handler = handlers.get(env);
    if (!handler) {
      const cfg = edgeConfig(env);
      handler = createHandler({
        cache: (tenant) => tenantCache(env.CACHE, tenant, cfg.shardsPerTenant),
        upstream: remoteUpstream(cfg.upstreamBaseUrl, { apiKey: env.UPSTREAM_API_KEY || undefined }),
        credentialHashKey: env.CREDENTIAL_HASH_KEY || undefined,
        tenantHeader: cfg.tenantHeader,
        adminToken: env.ADMIN_TOKEN || undefined,
        tenantProxySecret: env.TENANT_PROXY_SECRET || undefined,
        tenantTokens: cfg.tenantTokens,
        corsOrigins: cfg.corsOrigins,
        maxBodyBytes: cfg.maxBodyBytes,
        bodyTimeoutMs: cfg.bodyTimeoutMs,
        maxImportBytes: cfg.maxImportBytes,
        importTimeoutMs: cfg.importTimeoutMs,
        upstreamTimeoutMs: cfg.upstreamTimeoutMs,
        onCacheError,
      });
      handlers.set(env, handler);
    }
    return handler;
  };
  return async function fetch(request: Request, env: EdgeEnv, ctx: ExecutionContextLike): Promise<Response> {
    let handler;
    try {
      handler = handlerFor(env);
    } catch (e) {
      return Response.json({ error: { message: (e as Error).message, type: 'api_error', code: 'CONFIG' } }, { status: 500, headers: { 'x-semcache': 'bypass' } });
    }
    // No client address: at the edge no caller is on loopback, so the local-only write rights never apply.
    return handler(request, { waitUntil: (p) => ctx.waitUntil(p) });
  };
}

/** The Durable Object name of a tenant's shard. The shard suffix is always last, so names of
 * different (tenant, shard) pairs never collide whatever the tenant string holds. */
export function shardName(tenant: string, shard: number): string {
  return `${tenant}#${shard}`;
}

/**
 * Which shard a scope lives in. Not by prompt: a semantic lookup must see every entry that could
 * match, and paraphrases hash anywhere. A scope (model, system prompt, parameters, conversation
 * before the question) is the unit that can never match across, so it is the unit that moves.
 */
export function shardOf(scope: ScopeInput, shards: number): number {
  if (shards <= 1) return 0;
  const key = scopeKey(scope);
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) % shards;
}

/** A HandlerCache for one tenant: every call goes to the shard of its scope (clear/stats/flush
 * and export without a scope go to all of the tenant's shards; an import goes to each entry's). */
export function tenantCache(ns: DurableObjectNamespaceLike, tenant: string, shards: number): HandlerCache {
  const stub = (shard: number) => ns.get(ns.idFromName(shardName(tenant, shard)));
  const call = async <T>(shard: number, op: ShardOp, args: unknown[]): Promise<T> => {
    const r = (await stub(shard).call(op, args)) as ShardReply;
    if (r.error) throw decodeError(r.error);
    return r.result as T;
  };
  const all = <T>(op: ShardOp, args: unknown[]) => Promise.all(Array.from({ length: shards }, (_, i) => call<T>(i, op, args)));
  /** A leader whose pieces go to its shard in order, batched while an RPC is on its way. */
  const remoteLeader = (shard: number, token: string, prompt: string, scope: ScopeInput): Leader => {
    let batch: string[] = [];
    let sending = Promise.resolve();
    const send = async () => {
      const pieces = batch;
      batch = [];
      if (pieces.length) await call(shard, 'piece', [token, pieces]).catch(() => {});  // joined calls then time out
    };
    return {
      piece(text) {
        batch.push(text);
        if (batch.length === 1) sending = sending.then(send);
      },
      async done(answer, o = {}) {
        await sending;
        try {
          return await call<{ id: number }>(shard, 'done', [token, answer, { metadata: o.metadata, ttl: o.ttl }]);
        } catch (e) {
          // the object restarted since begin and forgot the flight: store the answer all the same
          if ((e as SemcacheError).code !== 'INVALID_ARGUMENT') throw e;
          return call<{ id: number }>(shard, 'put', [prompt, answer, { scope, metadata: o.metadata, ttl: o.ttl }]);
        }
      },
      fail(reason) {
        void sending.then(() => call(shard, 'fail', [token, reason])).catch(() => {});
      },
    };
  };
  return {
    get: (prompt, o = {}) => call(shardOf(o.scope, shards), 'get', [prompt, { scope: o.scope }]),
    begin: async (prompt, o = {}) => {
      const shard = shardOf(o.scope, shards);
      const r = await call<ShardBegin>(shard, 'begin', [prompt, { scope: o.scope }]);
      if (r.hit) return r;
      const { lead, join, ...miss } = r;
      if (join) return { ...miss, join: { similarity: join.similarity, prompt: join.prompt, next: (from: number) => call<FlightProgress>(shard, 'next', [join.token, from]) } };
      return { ...miss, lead: remoteLeader(shard, lead!, prompt, o.scope) };
    },
    put: (prompt, answer, o = {}) => call(shardOf(o.scope, shards), 'put', [prompt, answer, { scope: o.scope, metadata: o.metadata, ttl: o.ttl }]),
    clear: async (o = {}) => {
      if (o.scope !== undefined) return call<number>(shardOf(o.scope, shards), 'clear', [{ scope: o.scope }]);
      return (await all<number>('clear', [{}])).reduce((a, b) => a + b, 0);
    },
    stats: async () => sumStats(await all<ShardStats>('stats', [])),
    flush: async () => {
      await all('flush', []);
    },
    export: (o = {}) => exportStream(() => info(call), shardsExport(call, shards, exportFilter(o)), exportFilter(o)),
    import: (source, o = {}) => {
      const touched = new Map<number, Set<number>>();
      return importInto(
        source,
        {
          importBatch: async (token, entries) => {
            const by = new Map<number, TransferEntry[]>();
            for (const e of entries) {
              const s = shardOf(JSON.parse(e.scope) as ScopeInput, shards);
              by.set(s, [...(by.get(s) ?? []), e]);
            }
            const t = touched.get(token) ?? new Set<number>();
            touched.set(token, t);
            let n = 0;
            for (const [s, list] of by) {
              t.add(s);
              n += await call<number>(s, 'importBatch', [token, list]);
            }
            return n;
          },
          importEnd: async (token, commit) => {
            const t = touched.get(token) ?? new Set<number>();
            touched.delete(token);
            await Promise.all([...t].map((s) => call(s, 'importEnd', [token, commit])));
          },
        },
        () => info(call),
        o,
      );
    },
  };
}

type ShardCall = <T>(shard: number, op: ShardOp, args: unknown[]) => Promise<T>;

/** What the tenant's vectors are: its first shard's embedder and length (all shards share them). */
async function info(call: ShardCall): Promise<TransferInfo> {
  const s = await call<SemanticCacheStats>(0, 'stats', []);
  return { embedder: s.embedder, dimensions: s.dimensions };
}

/** An export over a tenant's shards, one after the other (only the scope's shard for a scope). */
function shardsExport(call: ShardCall, shards: number, filter: ExportFilter) {
  const order = filter.scope === undefined ? Array.from({ length: shards }, (_, i) => i) : [shardOf(JSON.parse(filter.scope) as ScopeInput, shards)];
  const sessions = new Map<number, number>();
  return {
    exportOpen: () => 0,
    exportNext: async (_: number, limit: number): Promise<TransferEntry[] | null> => {
      while (order.length) {
        const s = order[0]!;
        if (!sessions.has(s)) sessions.set(s, await call<number>(s, 'exportOpen', [filter]));
        const page = await call<TransferEntry[] | null>(s, 'exportNext', [sessions.get(s), limit]);
        if (page) return page;
        order.shift();
      }
      return null;
    },
  };
}

/** A shard's stats: the cache's, and whether its saved index snapshot is current. */
export type ShardStats = SemanticCacheStats & { snapshotCurrent?: boolean };

/** One tenant's stats over its shards: counts add up, rates are recomputed; `snapshotsCurrent`
 * counts the shards a restart would load from their snapshot rather than rebuild from rows. */
export function sumStats(parts: ShardStats[]): SemanticCacheStats & { shards: number; snapshotsCurrent: number } {
  const { snapshotCurrent: _, ...first } = parts[0]!;
  const out = { ...first, time: { ...first.time }, shards: parts.length, snapshotsCurrent: parts.filter((p) => p.snapshotCurrent).length };
  for (const p of parts.slice(1)) {
    for (const k of ['lookups', 'hits', 'exactHits', 'misses', 'puts', 'evictions', 'expirations', 'removals', 'entries', 'bytes', 'scopes', 'embedCalls', 'cacheErrors'] as const) {
      out[k] += p[k];
    }
    for (const k of Object.keys(out.time) as (keyof SemanticCacheStats['time'])[]) out.time[k] += p.time[k];
  }
  out.hitRate = out.lookups ? out.hits / out.lookups : 0;
  return out;
}
