// The OPFS worker's side of exact repeats answered on pages (js/opfs-exact.ts): every entry that
// leaves the cache's core is announced on the cache's BroadcastChannel, numbered within this
// worker's life, and the answers a page may keep carry the number read before their lookup.
import type { MemoChange, MemoStamp } from '../exact-memo.js';
import { INTERNAL } from '../internal.js';
import type { SemanticCache } from '../semantic-cache.js';
import { changesChannel } from './opfs-protocol.js';

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
