// Prompt signatures (the 'learned' evaluator's lexical view of a prompt) are computed only when the
// evaluator reads them. A cache written under 'cosine' holds none, in the core or in its snapshot;
// reopening it with 'learned' must then rebuild from the rows (which keep the prompts) and decide
// exactly as a cache that was 'learned' from the start.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { MemoryStore, SemanticCache } from 'semcache';
import { root, toyEmbedder } from './helpers.js';

// The bundled model's projection is fitted to USE lite: an embedder of that family (by id).
const embedder = { id: 'use-lite-cache-q8@test', dimensions: 512, embed: toyEmbedder(512) };
const evaluatorModel = new Uint8Array(fs.readFileSync(path.join(root, 'dist/models/evaluator/model.bin')));

const CACHED = ['How do I learn Python?', 'best laptop in 2016', 'is coffee good for you', 'What is 5 kg in pounds?', 'Why do cats purr?'];
const QUERIES = ['How do I learn Java?', 'How can I learn Python?', 'best laptop in 2017', 'is coffee bad for you', 'What is 50 kg in pounds?', "Why don't cats purr?"];

class CountingStore extends MemoryStore {
  scans = 0;
  /** Sizes of the snapshots saved. */
  saved: number[] = [];
  override async scan(onRows: Parameters<MemoryStore['scan']>[0]) {
    this.scans++;
    return super.scan(onRows);
  }
  override async saveSnapshot(s: Parameters<MemoryStore['saveSnapshot']>[0]) {
    this.saved.push(s.bytes.length);
    return super.saveSnapshot(s);
  }
}

async function decisions(cache: SemanticCache) {
  const out = [];
  for (const q of QUERIES) {
    const r = await cache.get(q);
    out.push({ q, hit: r.hit, score: r.score });
  }
  return out;
}

async function fill(cache: SemanticCache) {
  for (const p of CACHED) await cache.put(p, `answer to ${p}`);
}

it("a cache written under 'cosine' reopens under 'learned' with the signatures it needs", async () => {
  const reference = await SemanticCache.open({ embedder, evaluator: 'learned', evaluatorModel });
  await fill(reference);
  const expected = await decisions(reference);
  await reference.close();
  // the learned evaluator tells these apart: not every score is the same
  expect(new Set(expected.map((d) => d.score)).size).toBeGreaterThan(1);

  const store = new CountingStore();
  const cosine = await SemanticCache.open({ embedder, store, threshold: 0.5 });
  await fill(cosine);
  await cosine.close();  // writes a snapshot without signatures
  expect(store.saved).toHaveLength(1);

  const scans = store.scans;
  const learned = await SemanticCache.open({ embedder, store, evaluator: 'learned', evaluatorModel });
  expect(store.scans, 'the signature-less snapshot was refused: rebuilt from the rows').toBe(scans + 1);
  expect(await decisions(learned)).toEqual(expected);
  await learned.close();  // writes a snapshot with signatures
  expect(store.saved).toHaveLength(2);
  expect(store.saved[1]).toBeGreaterThan(store.saved[0]!);

  const again = await SemanticCache.open({ embedder, store, evaluator: 'learned', evaluatorModel });
  expect(store.scans, 'loaded from the snapshot').toBe(scans + 1);
  expect(await decisions(again)).toEqual(expected);
  await again.close();

  // and 'cosine' takes the learned cache's snapshot as it is
  const back = await SemanticCache.open({ embedder, store, threshold: 0.5 });
  expect(store.scans).toBe(scans + 1);
  expect((await back.get(CACHED[0]!)).hit).toBe(true);
  expect((await back.stats()).entries).toBe(CACHED.length);
  await back.close();
});
