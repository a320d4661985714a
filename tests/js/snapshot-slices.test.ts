// Snapshots written in slices while the cache serves (js/snapshots.ts over the wasm core and
// the SQLite file store): puts, removals and lookups that run between slices are all in the
// snapshot, which loads as the cache was when it finished; and through SemanticCache, lookups
// and puts during a checkpoint answer as they would without one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, NodeSqliteStore, SemanticCache } from 'semcache';
import type { CacheCore, SemcacheCoreModule } from '../../dist/wasm/semcache_core.mjs';
import { loadSnapshotStreamed, writeSnapshotSliced } from '../../dist/snapshots.js';
import { loadModule, near, randomUnit, rng, toyEmbedder } from './helpers.js';

let M: SemcacheCoreModule;
beforeAll(async () => {
  M = await loadModule();
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-slices-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const dim = 64;
const r = rng(3);
const centres = Array.from({ length: 20 }, () => randomUnit(dim, r));
const vec = (i: number) => near(centres[i % 20]!, 0.3, rng(1000 + i));
function put(c: CacheCore, scope: string, i: number, now = i) {
  M.HEAPF32.set(vec(i), c.vectorBuffer() >> 2);
  return c.put(scope, `prompt ${i}`, dim, 10, now, 0);
}
function lookup(c: CacheCore, scope: string, i: number, now: number) {
  M.HEAPF32.set(vec(i), c.vectorBuffer() >> 2);
  return c.lookup(scope, '', dim, now, { threshold: 0.99 });
}
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('sliced snapshots', () => {
  it('changes made between slices are in the snapshot, which loads as the cache was at its end', async () => {
    for (const space of ['f32', 'int8'] as const) {
      const c = new M.CacheCore({ dimensions: dim, space, flatLimit: 64, maxEntries: 0 });
      for (let i = 0; i < 3000; i++) put(c, i % 4 ? 'big' : 'other', i);
      const store = new NodeSqliteStore(path.join(dir, `slices-${space}.sqlite3`));
      await store.open({ dimensions: dim, space, embedder: 'test' });
      let seq = 1;
      let done = false;
      let between = 0;
      // The state when each slice is taken: the last is what the snapshot must hold.
      let last = new Uint8Array(0);
      const at = () => ((last = c.snapshot(seq)), seq);
      const writing = writeSnapshotSliced(c, store, at, 16 << 10).finally(() => (done = true));
      // Another caller, one operation per turn, until the snapshot is written.
      for (let i = 3000; !done; i++) {
        const now = 10_000 + i;
        if (i % 3 === 0) put(c, i % 2 ? 'big' : `new ${i % 5}`, i, now);
        else if (i % 3 === 1) c.remove(1 + ((i * 7919) % 3000));
        else expect(lookup(c, 'big', (i * 31) % 3000, now).candidateIds.length).toBeGreaterThan(0);
        seq++;
        between++;
        await new Promise((res) => setImmediate(res));
      }
      const stamped = (await writing)!;
      expect(between).toBeGreaterThan(10);
      const d = new M.CacheCore({ dimensions: dim, space, flatLimit: 64, maxEntries: 0 });
      expect(await loadSnapshotStreamed(M, d, store, (s) => s === stamped)).toBe(stamped);
      expect(same(d.snapshot(stamped), last)).toBe(true);
      expect(d.stats().entries).toBeGreaterThan(2000);
      // A declined or damaged snapshot leaves the core as it was.
      const e = new M.CacheCore({ dimensions: dim, space, flatLimit: 64, maxEntries: 0 });
      expect(await loadSnapshotStreamed(M, e, store, () => false)).toBeUndefined();
      const wrong = new M.CacheCore({ dimensions: dim + 1, space });
      expect(await loadSnapshotStreamed(M, wrong, store, () => true)).toBeUndefined();
      expect(e.stats().entries + wrong.stats().entries).toBe(0);
      await store.close();
      for (const x of [c, d, e, wrong]) x.delete();
    }
  });

  it('a clear() during the snapshot aborts it and keeps the previous one', async () => {
    const c = new M.CacheCore({ dimensions: dim, flatLimit: 64, maxEntries: 0 });
    for (let i = 0; i < 2000; i++) put(c, 's', i);
    const store = new NodeSqliteStore(path.join(dir, 'abort.sqlite3'));
    await store.open({ dimensions: dim, space: 'f32', embedder: 'test' });
    expect(await writeSnapshotSliced(c, store, () => 1)).toBe(1);
    const writing = writeSnapshotSliced(c, store, () => 2, 8 << 10);
    await new Promise((res) => setImmediate(res));
    c.clear();
    expect(await writing).toBeUndefined();
    expect((await store.loadSnapshot())?.seq).toBe(1);
    await store.close();
    c.delete();
  });
});

describe('a checkpoint in a SemanticCache', () => {
  it('lookups and puts during it answer as without one; the next open loads it', async () => {
    const embedder = toyEmbedder(256);  // prompts that differ in one word stay apart
    const file = path.join(dir, 'cache.sqlite3');
    const open = (store: NodeSqliteStore, snapshotEvery: number) =>
      SemanticCache.open({ embedder, store, threshold: 0.8, snapshotEvery, snapshotIntervalMs: 0, index: { flatLimit: 64 } });
    const store = new NodeSqliteStore(file);
    // Watch the background checkpoint: from beginSnapshot until its sink commits.
    let phase: 'before' | 'writing' | 'committed' = 'before';
    const begin = store.beginSnapshot.bind(store);
    store.beginSnapshot = async () => {
      phase = 'writing';
      const sink = await begin();
      return { ...sink, write: (b: Uint8Array) => sink.write(b), abort: () => sink.abort(), commit: (seq: number) => sink.commit(seq).then(() => void (phase = 'committed')) };
    };
    const c = await open(store, 3000);
    for (let i = 0; i < 2999; i++) await c.put(`how do I configure router model ${i}`, `answer ${i}`);
    expect(phase).toBe('before');
    await c.put('the put that starts the checkpoint', 'x');
    let during = 0;
    for (let i = 0; phase !== 'committed'; i++) {
      const q = (i * 37) % 2999;
      expect(await c.get(`how do I configure router model ${q} please`)).toMatchObject({ hit: true, answer: `answer ${q}` });
      await c.put(`question asked during the checkpoint ${i}`, `late ${i}`);
      const late = await c.get(`question asked during the checkpoint ${i}`);
      expect(late).toMatchObject({ hit: true, answer: `late ${i}` });
      if (phase === 'writing') during++;
    }
    expect(during).toBeGreaterThan(0);  // calls answered between its slices
    const entries = (await c.stats()).entries;
    await c.close();
    const again = new NodeSqliteStore(file);
    let scans = 0;
    const scan = again.scan.bind(again);
    again.scan = (f) => (scans++, scan(f));
    const c2 = await open(again, 0);
    expect(scans).toBe(0);  // the checkpoint loaded, with the rows after it replayed
    expect((await c2.stats()).entries).toBe(entries);
    expect(await c2.get('question asked during the checkpoint 2')).toMatchObject({ hit: true, answer: 'late 2' });
    expect(await c2.get('how do I configure router model 99 please')).toMatchObject({ hit: true, answer: 'answer 99' });
    await c2.close();
  });
  it('a flush() whose own writes start a background checkpoint waits for it instead of ending it', async () => {
    // The memory store holds a snapshot's slices itself (no sink whose I/O would space them
    // out), so two writers would interleave slice by slice.
    const embedder = toyEmbedder(256);
    const store = new MemoryStore();
    const open = (snapshotEvery: number) =>
      SemanticCache.open({ embedder, store, threshold: 0.8, snapshotEvery, snapshotIntervalMs: 0, index: { flatLimit: 64 } });
    const c = await open(3000);
    for (let i = 0; i < 2999; i++) await c.put(`how do I configure router model ${i}`, `answer ${i}`);
    // a hit leaves a touch pending: flush() writes it, which is write 3000 and starts the
    // checkpoint (many slices), then flush() wants its own snapshot too
    expect(await c.get('how do I configure router model 5 please')).toMatchObject({ hit: true });
    await c.flush();
    expect((await c.stats()).cacheErrors).toBe(0);
    await c.close();
    let scans = 0;
    const scan = store.scan.bind(store);
    store.scan = (f) => (scans++, scan(f));
    const c2 = await open(0);
    expect(scans).toBe(0);  // the snapshot flush() wrote is whole
    expect((await c2.stats()).entries).toBe(2999);
    await c2.close();
  });
});
