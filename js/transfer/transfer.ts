// Export and import over any cache that can list its entries page by page and take entries in
// batches: the in-process cache (transfer/local.ts), the OPFS proxy (through its worker), the edge
// worker (through each shard's Durable Object). The file format is format.ts.
import type { ExportOptions, ImportOptions, ImportResult, ImportSource } from '../api.js';
import { concatBytes } from '../bytes.js';
import { SemcacheError, throwIfAborted } from '../errors.js';
import { scopeKey, type ScopeInput } from '../scope.js';
import { ExportWriter, readExport, type TransferEntry, type TransferInfo } from './format.js';

/** Entries per page or batch: ~1 MB of 512-d vectors, one store transaction. */
export const TRANSFER_BATCH = 256;

/** Which entries an export takes: one scope (its key), one tenant, or all. */
export interface ExportFilter {
  scope?: string;
  tenant?: string;
}

/** A cache side that can be read page by page; a session survives until it yields null. */
export interface ExportSource {
  exportOpen(filter: ExportFilter): Promise<number> | number;
  exportNext(session: number, limit: number): Promise<TransferEntry[] | null>;
}

/**
 * A cache side that takes an import in batches and then keeps it or takes it back: `importEnd`
 * with commit false removes what the import added and restores what it displaced (entries it
 * replaced or evicted), so a file found corrupt halfway changes nothing.
 */
export interface ImportTarget {
  /** Adds entries as part of import `token`; resolves how many were taken (expired ones are not). */
  importBatch(token: number, entries: TransferEntry[]): Promise<number>;
  importEnd(token: number, commit: boolean): Promise<void>;
}

export function exportFilter(options: ExportOptions = {}): ExportFilter {
  const f: ExportFilter = {};
  if ('scope' in options && options.scope !== undefined) f.scope = scopeKey(options.scope);
  if (options.tenant !== undefined) {
    if (typeof options.tenant !== 'string') throw new SemcacheError('INVALID_ARGUMENT', 'export: tenant must be a string');
    f.tenant = options.tenant;
  }
  return f;
}

/** The tenant of a canonical scope key, if it has one. */
export function tenantOfScope(key: string): string | undefined {
  try {
    const t = (JSON.parse(key) as { tenant?: unknown }).tenant;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The export file of `source`'s entries, produced as it is read (pull-driven, page by page).
 * `info` may be a function: it is asked when the first byte is wanted (the edge opens a shard). */
export function exportStream(info: TransferInfo | (() => Promise<TransferInfo>), source: ExportSource, filter: ExportFilter): ReadableStream<Uint8Array> {
  const w = new ExportWriter();
  let session: number | undefined;
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (session === undefined) {
        const i = typeof info === 'function' ? await info() : info;
        session = await source.exportOpen(filter);
        controller.enqueue(w.start({ format: 'semcache-export', embedder: i.embedder, dimensions: i.dimensions, exportedAt: Date.now(), ...filter }));
        return;
      }
      if (done) return;
      const page = await source.exportNext(session, TRANSFER_BATCH);
      if (!page) {
        done = true;
        controller.enqueue(w.end());
        controller.close();
        return;
      }
      controller.enqueue(concatBytes(page.map((e) => w.entry(e))));
    },
  });
}

/**
 * Reads an export into `target`: the header is checked against this cache's embedder and
 * dimensions before anything is written (STORE_MISMATCH), entries go in batches, and the import
 * is kept only when the whole file checked out; otherwise it is taken back and the error thrown.
 */
export async function importInto(source: ImportSource, target: ImportTarget, info: TransferInfo | (() => Promise<TransferInfo>), options: ImportOptions = {}): Promise<ImportResult> {
  const rescope = rescoper(options);
  let want: TransferInfo | undefined;
  const token = Math.floor(Math.random() * 0x7fffffff) + 1;
  let started = false;
  let imported = 0;
  let read = 0;
  let batch: TransferEntry[] = [];
  const flush = async () => {
    if (!batch.length) return;
    started = true;
    const b = batch;
    batch = [];
    imported += await target.importBatch(token, b);
  };
  try {
    for await (const item of readExport(source)) {
      throwIfAborted(options.signal);
      if ('header' in item) {
        const h = item.header;
        want = typeof info === 'function' ? await info() : info;
        if (h.embedder !== want.embedder || h.dimensions !== want.dimensions) {
          throw new SemcacheError('STORE_MISMATCH', `the file holds ${h.dimensions}-d vectors from embedder '${h.embedder}', this cache uses ${want.dimensions}-d vectors from '${want.embedder}': its entries would never match`);
        }
      } else if ('entry' in item) {
        read++;
        batch.push(rescope(item.entry));
        if (batch.length >= TRANSFER_BATCH) await flush();
      } else {
        await flush();
      }
    }
  } catch (e) {
    if (started) await target.importEnd(token, false).catch(() => {});
    throw e;
  }
  await target.importEnd(token, true);
  return { imported, expired: read - imported };
}

/** Moves entries into the scope (or tenant) the importer asked for. */
function rescoper(options: ImportOptions): (e: TransferEntry) => TransferEntry {
  if (options.scope !== undefined) {
    const key = scopeKey(options.scope);
    return (e) => ({ ...e, scope: key });
  }
  if (options.tenant !== undefined) {
    if (typeof options.tenant !== 'string') throw new SemcacheError('INVALID_ARGUMENT', 'import: tenant must be a string');
    const tenant = options.tenant;
    return (e) => ({ ...e, scope: scopeKey({ ...(parseScope(e.scope) as object), tenant } as ScopeInput) });
  }
  return (e) => ({ ...e, scope: scopeKey(parseScope(e.scope) as ScopeInput) });
}

/** A scope key from a file, checked to be one (an object) and made canonical. */
function parseScope(key: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(key);
  } catch {
    v = undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SemcacheError('CORRUPT_EXPORT', `not a valid semcache export: an entry's scope is not a scope key (${key.slice(0, 80)})`);
  return v;
}
