// Export and import for a cache in this thread (SemanticCache; the OPFS worker and the Durable
// Object shard reach it through their verbs): pages of entries read from the core's ids and the
// store's rows, and batches of entries written through the writer with what they displaced kept
// aside until the import is committed, so that an import taken back restores it.
import { SemcacheError, core } from '../errors.js';
import type { CacheRow, CacheStore } from '../store.js';
import { checkAnswer, checkPrompt } from '../validate.js';
import { restoreRow, withVector, type CoreRef, type Writer } from '../writer.js';
import type { TransferEntry } from './format.js';
import { tenantOfScope, type ExportFilter, type ExportSource, type ImportTarget } from './transfer.js';

/** Abandoned export sessions (a reader that stopped early) are dropped past this many. */
const MAX_EXPORT_SESSIONS = 16;

interface ImportSession {
  /** Entries this import put that are still there. */
  added: Set<number>;
  /** Rows this import removed (replaced or evicted), as they were. */
  displaced: Map<number, CacheRow>;
}

export class LocalTransfer implements ExportSource, ImportTarget {
  private nextSession = 1;
  private readonly exports = new Map<number, { ids: Uint32Array; at: number; filter: ExportFilter }>();
  private readonly imports = new Map<number, ImportSession>();

  constructor(
    private readonly c: CoreRef,
    private readonly store: CacheStore,
    private readonly writer: Writer,
    private readonly clock: () => number,
    private readonly limits: { maxPromptChars: number; maxAnswerBytes: number },
  ) {}

  /** Takes the ids to export now: entries put afterwards are not in this export. */
  exportOpen(filter: ExportFilter): number {
    const id = this.nextSession++;
    this.exports.set(id, { ids: core(() => this.c.core.ids(filter.scope ?? '')).slice(), at: 0, filter });
    if (this.exports.size > MAX_EXPORT_SESSIONS) this.exports.delete(this.exports.keys().next().value!);
    return id;
  }

  async exportNext(session: number, limit: number): Promise<TransferEntry[] | null> {
    const s = this.exports.get(session);
    if (!s) throw new SemcacheError('INVALID_ARGUMENT', `no export session ${session} (it ended or was dropped)`);
    const out: TransferEntry[] = [];
    const now = this.clock();
    while (out.length < limit && s.at < s.ids.length) {
      const id = s.ids[s.at++]!;
      const e = this.c.core.entry(id);
      if (!e || (e.expiresAt && e.expiresAt <= now)) continue;  // removed or expired since the export began
      if (s.filter.tenant !== undefined && tenantOfScope(e.scope) !== s.filter.tenant) continue;
      const row = await this.store.get(id);
      if (!row) continue;
      const entry: TransferEntry = {
        scope: row.scope,
        prompt: row.prompt,
        answer: row.answer,
        vector: row.vector,
        created: e.created,
        lastAccess: e.lastAccess,
        expiresAt: e.expiresAt,
        hits: e.hits,
      };
      if (row.metadata !== undefined) entry.metadata = row.metadata;
      out.push(entry);
    }
    if (!out.length && s.at >= s.ids.length) {
      this.exports.delete(session);
      return null;
    }
    return out;
  }

  /**
   * Puts a batch in one store transaction. Expired entries are skipped; the others keep their
   * expiry (as a remaining ttl) and metadata; hits, access times and feedback offsets (which
   * belong to the exporting cache's own traffic) start afresh.
   */
  importBatch(token: number, entries: TransferEntry[]): Promise<number> {
    let s = this.imports.get(token);
    if (!s) this.imports.set(token, (s = { added: new Set(), displaced: new Map() }));
    const session = s;
    return this.writer.write(async () => {
      const now = this.clock();
      const rows = new Map<number, CacheRow>();
      const deleted: number[] = [];
      const batch: { id: number; displaced: CacheRow[] }[] = [];
      /** Entries of earlier batches of this import that this batch removed. */
      const ownRemoved: number[] = [];
      let taken = 0;
      try {
        for (const e of entries) {
          if (e.expiresAt && e.expiresAt <= now) continue;
          if (e.vector.length !== this.c.dimensions) throw new SemcacheError('DIMENSION_MISMATCH', `an imported vector has ${e.vector.length} dimensions, this cache ${this.c.dimensions}`);
          checkPrompt(e.prompt, this.limits.maxPromptChars);
          const answerBytes = checkAnswer(e.answer, this.limits.maxAnswerBytes);
          const ttl = e.expiresAt ? e.expiresAt - now : 0;
          const r = withVector(this.c, e.vector, () => this.c.core.put(e.scope, e.prompt, e.vector.length, answerBytes, now, ttl));
          taken++;
          const mine = { id: r.id, displaced: [] as CacheRow[] };
          batch.push(mine);
          session.added.add(r.id);
          for (const old of [...r.evicted, ...(r.replaced ? [r.replaced] : [])]) {
            this.writer.forget([old]);
            if (rows.delete(old)) {
              session.added.delete(old);  // put earlier in this batch: it never reached the store
              continue;
            }
            deleted.push(old);
            if (session.added.delete(old)) {
              ownRemoved.push(old);  // an earlier batch's: nothing to restore
              continue;
            }
            const row = await this.store.get(old);
            if (row) {
              session.displaced.set(old, row);
              mine.displaced.push(row);
            }
          }
          rows.set(r.id, {
            id: r.id, scope: e.scope, prompt: e.prompt, promptHash: r.promptHash, answer: e.answer, answerBytes,
            vector: e.vector, created: now, lastAccess: now, expiresAt: ttl > 0 ? now + ttl : 0, hits: 0,
            metadata: e.metadata,
          });
        }
        await this.writer.apply({ put: [...rows.values()], delete: deleted });
      } catch (err) {
        // This batch never reached the store: take it out of the core and bring back what it
        // displaced; entries of earlier batches it removed stay this import's (importEnd deletes them).
        for (const b of batch.reverse()) {
          this.c.core.remove(b.id);
          this.writer.forget([b.id]);
          session.added.delete(b.id);
          for (const row of b.displaced) {
            session.displaced.delete(row.id);
            restoreRow(this.c, row);
          }
        }
        for (const id of ownRemoved) session.added.add(id);
        throw err;
      }
      return taken;
    });
  }

  /** Commit: forget the session. Abort: remove what it added, restore what it displaced. */
  importEnd(token: number, commit: boolean): Promise<void> {
    const s = this.imports.get(token);
    this.imports.delete(token);
    if (!s || commit) return Promise.resolve();
    return this.writer.write(async () => {
      // Every id it added goes, from the store too (some may already be gone from the core).
      const ids = [...s.added];
      for (const id of ids) this.c.core.remove(id);
      this.writer.forget(ids);
      const back = [...s.displaced.values()].filter((row) => !this.c.core.entry(row.id));
      for (const row of back) restoreRow(this.c, row);
      await this.writer.apply({ delete: ids, put: back });
    });
  }
}
