// One source of truth for the defaults: the core's CacheConfig (exported as CacheCore.defaults())
// for what the core does, JS_DEFAULTS for the rest. The core is always configured with every
// field, the configuration it runs is the one resolved, and the docs of SemanticCacheOptions
// (js/api.ts) state the same figures.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { SemanticCache } from 'semcache';
import { Embedding } from '../../dist/embedding.js';
import { DEFAULT_SEMANTIC_ON_PAGE, PageIndex } from '../../dist/opfs-page-index.js';
import { graphDegreeOf, LARGE_CACHE_ENTRIES, LARGE_CACHE_M, resolveOptions } from '../../dist/options.js';
import { loadModule, root, toyEmbedder } from './helpers.js';

const embedder = { id: 'toy', embed: toyEmbedder(16) };

/** The doc comment of each member of SemanticCacheOptions in js/api.ts. */
function optionDocs(): Map<string, string> {
  const file = path.join(root, 'js/api.ts');
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, string>();
  sf.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || node.name.text !== 'SemanticCacheOptions') return;
    for (const m of node.members) {
      const doc = ts.getJSDocCommentsAndTags(m).map((d) => d.getText(sf)).join(' ').replace(/\s*\*\s*/g, ' ');
      out.set(m.name!.getText(sf), doc);
    }
  });
  return out;
}

/** "Default 100,000." -> 100000, "Default 'lru'." -> 'lru', "Default 8 MiB." -> 8388608. */
function documentedDefault(doc: string): unknown {
  const m = /Default:? ([^.]+?|\d[\d,]*(?:\.\d+)?(?: MiB)?)\.(?:\s|$)/.exec(doc);
  if (!m) return undefined;
  const v = m[1]!.trim();
  if (/^'.*'$/.test(v)) return v.slice(1, -1);
  const mib = /^([\d.]+) MiB$/.exec(v);
  if (mib) return Number(mib[1]) * 1024 * 1024;
  return /^[\d,.]+$/.test(v) ? Number(v.replace(/,/g, '')) : v;
}

it('an open with no options runs the core defaults, every field passed and taken as is', async () => {
  const M = await loadModule();
  const d = M.CacheCore.defaults();
  expect(d.maxEntries).toBe(100_000);
  const r = resolveOptions({ embedder }, embedder, 16, d);
  expect(r.core).toEqual({ ...d, dimensions: 16 });
  const c = new M.CacheCore(r.core);
  expect(c.config()).toEqual(r.core);
  c.delete();
  // every option, set to something other than its default, reaches the core
  const o = {
    embedder,
    space: 'int8',
    eviction: 'lfu',
    maxEntries: 7,
    maxBytes: 100_000,
    evictFraction: 0.25,
    threshold: 0.5,
    evaluator: 'margin',
    margin: 0.125,
    maxFalseHitRate: 0.25,
    candidates: 3,
    index: { M: 8, efConstruction: 50, efSearch: 20, flatLimit: 0 },
  } as const;
  const r2 = resolveOptions(o, embedder, 16, d);
  const c2 = new M.CacheCore(r2.core);
  const { index, embedder: _e, ...flat } = o;
  expect(c2.config()).toEqual({ ...d, ...flat, ...index, dimensions: 16 });
  c2.delete();
  // and a cache opened without options reports the core's threshold
  const cache = await SemanticCache.open({ embedder });
  expect((await cache.stats()).threshold).toBeCloseTo(d.threshold, 6);
  await cache.close();
});

it('documents each default as the one applied', async () => {
  const M = await loadModule();
  const d = M.CacheCore.defaults();
  const r = resolveOptions({ embedder }, embedder, 16, d);
  const applied: Record<string, unknown> = {
    snapshotIntervalMs: r.snapshotIntervalMs,
    maxFalseHitRate: r.core.maxFalseHitRate,
    margin: r.core.margin,
    space: r.core.space,
    eviction: r.core.eviction,
    maxEntries: r.core.maxEntries,
    maxBytes: r.core.maxBytes,
    evictFraction: r.core.evictFraction,
    ttl: r.ttl,
    candidates: r.core.candidates,
    maxPromptChars: r.maxPromptChars,
    maxAnswerBytes: r.maxAnswerBytes,
    snapshotEvery: r.snapshotEvery,
  };
  const docs = optionDocs();
  for (const [key, value] of Object.entries(applied)) {
    const doc = documentedDefault(docs.get(key) ?? '');
    if (typeof value === 'number') expect(doc, key).toBeCloseTo(value, 6);
    else expect(doc, key).toBe(value);
  }
  expect(docs.get('threshold')).toMatch(new RegExp(`else ${d.threshold.toFixed(1)}\\.`));
  // an embedder with no calibrated evaluator of its own (this one) gets the documented fallback
  expect(docs.get('evaluator')).toMatch(new RegExp(`else '${r.evaluator}'\\.`));
  const idx = /`flatLimit` entries \(default (\d+)\), then HNSW with M \((\d+); (\d+) when `maxEntries` is above ([\d,]+) or 0,[^)]*\),\s+efConstruction \((\d+)\), efSearch \((\d+)/.exec(docs.get('index') ?? '');
  expect(idx?.slice(1).map((x) => Number(x.replace(/,/g, '')))).toEqual([d.flatLimit, d.M, LARGE_CACHE_M, LARGE_CACHE_ENTRIES, d.efConstruction, d.efSearch]);
});

it("gives a cache that may grow past 250,000 entries the wider graph, and a page's copy its worker's", async () => {
  const M = await loadModule();
  const d = M.CacheCore.defaults();
  const m = (o: object) => resolveOptions({ embedder, ...o }, embedder, 16, d).core.M;
  expect(m({})).toBe(d.M);
  expect(m({ maxEntries: LARGE_CACHE_ENTRIES })).toBe(d.M);
  expect(m({ maxEntries: LARGE_CACHE_ENTRIES + 1 })).toBe(LARGE_CACHE_M);
  expect(m({ maxEntries: 1_000_000 })).toBe(LARGE_CACHE_M);
  expect(m({ maxEntries: 0 })).toBe(LARGE_CACHE_M);
  // given, it is taken as is, whatever the size
  expect(m({ maxEntries: 1_000_000, index: { M: 12 } })).toBe(12);
  expect(m({ maxEntries: 10, index: { M: 40 } })).toBe(40);
  // the rule reads the limit the user gave, which a copy without limits of its own passes on
  expect(graphDegreeOf({ maxEntries: 1_000_000 }, d)).toBe(LARGE_CACHE_M);
  expect(graphDegreeOf({}, d)).toBe(d.M);
  // an OPFS cache's page copy (no limits of its own) is opened with its worker's
  const opened: { index?: { M?: number }; maxEntries?: number }[] = [];
  const openHere = async (options: object) => {
    opened.push(options);
    return { stats: async () => ({ threshold: -2 }), close: async () => {} } as never;
  };
  for (const maxEntries of [undefined, 1_000_000]) {
    const why = await PageIndex.open({ storage: 'opfs', name: 'm', maxEntries } as never, DEFAULT_SEMANTIC_ON_PAGE, new Embedding(embedder, 16) as never, { threshold: 0.9 } as never, openHere, {} as never, {} as never);
    expect(why).toMatch(/other options/);
  }
  expect(opened.map((o) => [o.maxEntries, o.index?.M])).toEqual([[0, d.M], [0, LARGE_CACHE_M]]);
  // and the core is configured with it
  const c = new M.CacheCore(resolveOptions({ embedder, maxEntries: 0 }, embedder, 16, d).core);
  expect(c.config().M).toBe(LARGE_CACHE_M);
  c.delete();
});
