// The OPFS worker's side of what pages answer themselves: for exact repeats (js/opfs-exact.ts)
// every entry that leaves the cache's core is announced on the cache's BroadcastChannel,
// numbered within this worker's life, and the answers a page may keep carry the number read
// before their lookup; for pages that keep a copy of the entries (js/opfs-page-index.ts) every
// batch the store takes is announced on a second channel, numbered by the store's seq.
import type { MemoChange, MemoStamp } from '../exact-memo.js';
import { INTERNAL } from '../internal.js';
import type { SemanticCache } from '../semantic-cache.js';
import type { StoreBatch } from '../store.js';
import { changesChannel, rowsChannel, type RowsChange } from './opfs-protocol.js';

export class ChangeAnnouncer {
  /** This worker's life: a later one has a larger epoch (its seq starts again). */
  private readonly epoch = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  private last = 0;
  private readonly channel: BroadcastChannel;

  constructor(
    name: string,
    private readonly cache: SemanticCache,
  ) {
    const channel = (this.channel = new BroadcastChannel(changesChannel(name)));
    cache[INTERNAL].onForget((ids) => channel.postMessage({ epoch: this.epoch, seq: ++this.last, ids } satisfies MemoChange));
  }

  /** Read before a lookup or put whose answer a page may keep. */
  get seq(): number {
    return this.last;
  }

  /** The stamp of entry `id`'s answer, `before` being seq before its lookup or put; undefined
   * once the entry is gone. */
  stamp(id: number, before: number): MemoStamp | undefined {
    const expiresAt = this.cache[INTERNAL].expiresAt(id);
    return expiresAt === undefined ? undefined : { epoch: this.epoch, seq: before, expiresAt };
  }

  close(): void {
    this.channel.close();
  }
}

/** Streams the store's batches to pages that keep a copy of the entries. */
export class RowAnnouncer {
  /** This worker's life: a page's copy made under another one is made again. */
  readonly epoch = Date.now() * 1000 + Math.floor(Math.random() * 1000);
  private readonly channel: BroadcastChannel;

  constructor(name: string, cache: SemanticCache) {
    const channel = (this.channel = new BroadcastChannel(rowsChannel(name)));
    cache[INTERNAL].onBatch((b, seq) => {
      // Touches matter to a copy only for feedback's offsets; hits and access times stay here.
      const batch: StoreBatch = { clear: b.clear, delete: b.delete, put: b.put };
      if (b.touch?.length) batch.touch = b.touch.map((t) => ({ id: t.id, lastAccess: 0, hits: 0, thresholdOffset: t.thresholdOffset ?? 0 }));
      try {
        channel.postMessage({ epoch: this.epoch, seq, batch } satisfies RowsChange);
      } catch {
        // Unclonable metadata cannot be in a row (it is stored as JSON); a closed channel means
        // the worker is closing: pages then make their copy again from the next owner.
      }
    });
  }

  close(): void {
    this.channel.close();
  }
}
