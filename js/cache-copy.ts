// A cache as another one's copy (the OPFS page's, js/opfs-page-index.ts): the rows the original
// hands out, read between two of its writes, and the batches its store takes applied to a copy
// on a memory store, ids kept. SemanticCache exposes both through INTERNAL.
import { SemcacheError, core } from './errors.js';
import type { RowsAt } from './internal.js';
import type { CacheRow, CacheStore, StoreBatch } from './store.js';
import { MemoryStore } from './stores/memory.js';
import { restoreRow, type CoreRef, type Writer } from './writer.js';

const NO_VECTOR = new Float32Array(0);

/** Every row and the store's seq they are at, read between writes; `over` past the limits. */
export function rowsAt(c: CoreRef, store: CacheStore, writer: Writer, limits: { maxEntries: number; maxBytes: number }, check: () => void): Promise<RowsAt> {
  return writer.write(async () => {
    check();
    const seq = writer.seq;
    const n = c.core.stats().entries;
    if (n > limits.maxEntries) return { seq, over: `${n} entries, more than ${limits.maxEntries}` };
    const rows: CacheRow[] = [];
    let bytes = 0;
    await store.scan((page) => {
      for (const r of page) {
        bytes += 2 * (r.prompt.length + r.answer.length);
        if (bytes <= limits.maxBytes) rows.push(r);
      }
    });
    return bytes > limits.maxBytes ? { seq, over: `${bytes} bytes of prompts and answers, more than ${limits.maxBytes}` } : { seq, rows };
  });
}

/** The original's batch applied here at once: its rows into the core with their ids, and into
 * the store without their vectors (the core has them). */
export function mirror(c: CoreRef, mem: CacheStore, writer: Writer, batch: StoreBatch): void {
  if (!(mem instanceof MemoryStore)) throw new SemcacheError('INVALID_ARGUMENT', `a copy of a cache lives on a memory store, not '${mem.kind}'`);
  const m = c.core;
  if (batch.clear) {
    m.clear();
    writer.forgetAll();
  }
  writer.forget((batch.delete ?? []).filter((id) => m.remove(id)));
  const put = (batch.put ?? []).map((row) => {
    if (m.remove(row.id)) writer.forget([row.id]);
    restoreRow(c, row);
    return { ...row, vector: NO_VECTOR };
  });
  // Feedback's offsets ride on touches: an entry whose offset changed is restored with it.
  for (const t of batch.touch ?? []) {
    const e = m.entry(t.id);
    if (!e || t.thresholdOffset === undefined || e.thresholdOffset === t.thresholdOffset) continue;
    const row = put.find((r) => r.id === t.id) ?? mem.peek(t.id);
    if (!row) continue;
    const vector = core(() => m.vector(t.id));
    m.remove(t.id);
    restoreRow(c, { ...row, vector, lastAccess: e.lastAccess, hits: e.hits, thresholdOffset: t.thresholdOffset });
  }
  // A memory store applies before its first await: the rows are readable when this returns.
  void mem.apply({ ...batch, put, touch: undefined });
}
