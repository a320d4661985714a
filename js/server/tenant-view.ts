// One tenant's view of a cache shared by all tenants (the Node server's single SemanticCache):
// lookups and puts carry the tenant in their scope already; clear and stats must touch only the
// scopes whose tenant is this one. (The edge worker needs none of this: each tenant has its own
// Durable Objects.)
import type { EntryInfo, SemanticCacheApi } from '../api.js';
import type { CallCache } from '../llm/consult.js';
import type { ScopeInput } from '../scope.js';
import { tenantOfScope } from '../transfer/transfer.js';

/** What the handler needs of a cache (a SemanticCache, the OPFS proxy, or a proxy to one in a
 * Durable Object): `begin`, when there, lets similar misses share one upstream call. */
export type HandlerCache = Pick<SemanticCacheApi, 'get' | 'put' | 'clear' | 'stats' | 'flush' | 'export' | 'import'> & Pick<CallCache, 'begin'>;

/** A cache all tenants share: what the handler needs, plus listing entries with their scopes. */
export type SharedCache = HandlerCache & {
  entries(options?: { scope?: ScopeInput; limit?: number; offset?: number }): Promise<EntryInfo[]>;
};

/** Figures that describe the cache's configuration, not traffic: true for every tenant. */
const CONFIG_FIELDS = ['evaluator', 'evaluatorThreshold', 'store', 'threshold', 'dimensions'] as const;
const PAGE = 1000;

export function tenantView(cache: SharedCache, tenant: string): HandlerCache {
  /** Every entry of this tenant, scanned page by page (clear and stats are rare and not hot). */
  async function ownEntries(): Promise<EntryInfo[]> {
    const out: EntryInfo[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await cache.entries({ limit: PAGE, offset });
      for (const e of page) if (tenantOfScope(e.scope) === tenant) out.push(e);
      if (page.length < PAGE) return out;
    }
  }
  return {
    get: (prompt, o) => cache.get(prompt, o),
    begin: cache.begin && ((prompt, o) => cache.begin!(prompt, o)),
    put: (prompt, answer, o) => cache.put(prompt, answer, o),
    flush: () => cache.flush(),
    // Only this tenant's entries leave, and whatever comes in lands in this tenant.
    export: (o = {}) => cache.export({ ...o, tenant }),
    import: (source, o = {}) => cache.import(source, { ...o, tenant }),
    async clear(o = {}) {
      if (o.scope !== undefined) return cache.clear({ scope: o.scope });
      let removed = 0;
      for (const scope of new Set((await ownEntries()).map((e) => e.scope))) removed += await cache.clear({ scope: JSON.parse(scope) as ScopeInput });
      return removed;
    },
    async stats() {
      const all = (await cache.stats()) as unknown as Record<string, unknown>;
      const mine = await ownEntries();
      const enc = new TextEncoder();
      const config = Object.fromEntries(CONFIG_FIELDS.filter((k) => k in all).map((k) => [k, all[k]]));
      return {
        ...config,
        tenant,
        entries: mine.length,
        scopes: new Set(mine.map((e) => e.scope)).size,
        /** Hits served from this tenant's current entries. */
        hits: mine.reduce((n, e) => n + e.hits, 0),
        /** UTF-8 bytes of its prompts and answers. */
        textBytes: mine.reduce((n, e) => n + enc.encode(e.prompt).length + enc.encode(e.answer).length, 0),
      } as never;
    },
  };
}
