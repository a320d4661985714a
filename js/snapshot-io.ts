// The core's snapshot, written in slices and read as a stream. A million entries make a ~700 MB
// snapshot: serialized in one step it blocked lookups for seconds and doubled the wasm heap, and
// loaded as one buffer it doubled the heap again while opening. Here the core writes about
// SNAPSHOT_SLICE_BYTES per slice and this yields between slices, so lookups and puts run
// meanwhile (the core rewrites what they change: the snapshot is the cache as it was at its last
// slice, see src/cache/snapshot.h); loading hands the core one chunk at a time.
import type { CacheCore, SemcacheCoreModule } from './wasm/semcache_core.mjs';
import { core as callCore, SemcacheError } from './errors.js';
import { nextTurn } from './platform.js';
import type { CacheStore } from './store.js';

/**
 * Core bytes per slice, and one store chunk: measured in Node on a loaded 2-core machine, 1 MiB
 * took 1-18 ms to serialize and 9-40 ms to insert into SQLite, so a lookup could wait ~50 ms
 * behind one slice; a quarter of that keeps the wait near 10 ms.
 */
export const SNAPSHOT_SLICE_BYTES = 256 << 10;

/**
 * Writes the core's snapshot into the store, a slice at a time. `seq()` is read at the last
 * slice: the snapshot holds every change up to then. Resolves that seq, or undefined when a
 * clear() (or a loaded snapshot) aborted it; the store's previous snapshot then stays.
 */
export async function writeSnapshotSliced(c: CacheCore, store: CacheStore, seq: () => number, sliceBytes = SNAPSHOT_SLICE_BYTES): Promise<number | undefined> {
  const sink = store.beginSnapshot ? await store.beginSnapshot() : undefined;
  const held: Uint8Array[] = [];
  let stamped = -1;
  try {
    callCore(() => c.snapshotBegin());
    for (;;) {
      const at = seq();
      const slice = callCore(() => c.snapshotNext(sliceBytes, at));
      if (sink) await sink.write(slice.bytes);
      else held.push(slice.bytes);
      if (slice.done) {
        stamped = at;
        break;
      }
      await nextTurn();
    }
  } catch (e) {
    c.snapshotAbort();
    await sink?.abort();
    if ((e as SemcacheError)?.code === 'ABORTED') return undefined;
    throw e;
  }
  if (sink) await sink.commit(stamped);
  else await store.saveSnapshot({ seq: stamped, bytes: concat(held) });
  return stamped;
}

/**
 * Streams the store's snapshot into the core. Resolves its seq, or undefined when there is none,
 * `usable(seq)` declines it, or the core refuses it (damaged, another format, another build):
 * the core is then as it was, and the rows are the truth. Throws only what the store throws.
 */
export async function loadSnapshotStreamed(m: SemcacheCoreModule, c: CacheCore, store: CacheStore, usable: (seq: number) => boolean): Promise<number | undefined> {
  let buf = 0;
  let cap = 0;
  let refused = false;
  const coreCall = <T>(f: () => T): T => {
    try {
      return callCore(f);
    } catch (e) {
      refused = true;
      throw e;
    }
  };
  const push = (chunk: Uint8Array) => {
    for (let at = 0; at < chunk.length; at += SNAPSHOT_SLICE_BYTES) {
      const part = chunk.subarray(at, at + SNAPSHOT_SLICE_BYTES);
      if (part.length > cap) {
        if (buf) m._free(buf);
        buf = m._malloc((cap = part.length));
        if (!buf) throw new SemcacheError('OUT_OF_MEMORY', `no room for a ${cap}-byte snapshot chunk in the wasm heap`);
      }
      m.HEAPU8.set(part, buf);
      coreCall(() => c.loadPush(buf, part.length));
    }
  };
  try {
    let seq: number | undefined;
    if (store.loadSnapshotChunks) {
      seq = await store.loadSnapshotChunks((size, s) => usable(s) && (coreCall(() => c.loadBegin(size)), true), push);
    } else {
      const snap = await store.loadSnapshot();
      if (snap && usable(snap.seq)) {
        coreCall(() => c.loadBegin(snap.bytes.length));
        push(snap.bytes);
        seq = snap.seq;
      }
    }
    if (seq === undefined) return undefined;
    coreCall(() => c.loadFinish());
    return seq;
  } catch (e) {
    if (refused) return undefined;
    throw e;
  } finally {
    c.loadAbort();
    if (buf) m._free(buf);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
