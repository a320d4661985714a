// The quality harness's protocols, each run once through SemanticCache with every lookup
// returning its best match (threshold -1, or maxFalseHitRate 1 for 'learned'), so one pass gives
// the score of every query's best match; a threshold t then hits exactly when score >= t.
//  - single: QQP pairs, `a` alone in a scope, query `b` (GPTCache's protocol): for duplicates a
//    hit is right, for non-duplicates any hit is a false hit;
//  - populated: every `a` question of the split in one scope, query the `b` of each duplicate
//    pair: a hit on its own question (or on one joined to it by duplicate labels) is right, on
//    any other cached question wrong (QQP labels only some pairs: an unlabelled duplicate
//    counts as wrong here);
//  - mock: GPTCache's mock_data, every `origin` in one scope, query every `similar`;
//  - probes: tests/js/quality-probes.mjs, every cached question in one scope.
// Warming the embedding cache: the cache embeds a prompt's normalized form, which embedKey
// spells in JS.
import { SemanticCache } from 'semcache';
import { embedKey, mockData } from './quality-data.mjs';
import { probeCases } from '../../tests/js/quality-probes.mjs';

const EVERYTHING = { threshold: -1 };
const open = (embedder, extra) => SemanticCache.open({ embedder, maxEntries: 0, candidates: 3, ...EVERYTHING, ...extra });
const best = (r) => ({ score: r.score ?? -Infinity, similarity: r.similarity ?? -1, matched: r.matchedPrompt ?? null, candidates: r.candidates ?? [] });

/** extra: cache options of the setting (evaluator...); returns [{score, similarity, label, query, matched}] */
export async function runSingle(embedder, pairs, extra = {}) {
  await embedder.embed(pairs.flatMap((p) => [p.a, p.b]).map(embedKey));
  const cache = await open(embedder, extra);
  const out = [];
  for (const p of pairs) {
    const scope = `qqp-${p.index}`;
    await cache.put(p.a, 'a', { scope });
    const r = await cache.get(p.b, { scope });
    out.push({ ...best(r), label: p.label, query: p.b });
    await cache.clear({ scope });  // one small index per scope: free it
  }
  await cache.close();
  return out;
}

/** [{score, similarity, right, query, matched}] for the duplicate pairs' `b` questions. */
export async function runPopulated(embedder, pairs, extra = {}) {
  // "the same question" is an equivalence: questions joined by a chain of duplicate labels
  // (a ~ b, b ~ c) are one class, and a hit anywhere in the query's class is right
  const cls = new Map();
  const find = (x) => {
    while (cls.get(x) !== x) x = cls.get(x);
    return x;
  };
  for (const p of pairs) for (const k of [embedKey(p.a), embedKey(p.b)]) if (!cls.has(k)) cls.set(k, k);
  for (const p of pairs) if (p.label === 1) cls.set(find(embedKey(p.a)), find(embedKey(p.b)));
  const cached = [...new Map(pairs.map((p) => [embedKey(p.a), p.a])).values()];
  // a `b` cached verbatim (it is another pair's `a`) would be an exact repeat, not a rewording
  const cachedKeys = new Set(cached.map(embedKey));
  const queries = pairs.filter((p) => p.label === 1 && !cachedKeys.has(embedKey(p.b)));
  await embedder.embed([...cached, ...queries.map((p) => p.b)].map(embedKey));
  const cache = await open(embedder, extra);
  for (const q of cached) await cache.put(q, 'a');
  const out = [];
  for (const p of queries) {
    const r = await cache.get(p.b);
    const m = r.matchedPrompt === undefined ? null : embedKey(r.matchedPrompt);
    const right = m !== null && cls.has(m) && find(m) === find(embedKey(p.b));
    out.push({ ...best(r), right, query: p.b });
  }
  await cache.close();
  return { rows: out, entries: cached.length };
}

/** [{score, similarity, right, query, matched}] */
export async function runMock(embedder, extra = {}) {
  const data = mockData();
  await embedder.embed(data.flatMap((d) => [d.origin, d.similar]).map(embedKey));
  const cache = await open(embedder, extra);
  // 35 origins appear twice: the second put replaces the first, and a hit on the entry holding
  // the query's own origin text is right whichever pair put it.
  const idOf = new Map();
  for (let i = 0; i < data.length; i++) idOf.set(data[i].origin, (await cache.put(data[i].origin, String(i))).id);
  const out = [];
  for (const d of data) {
    const r = await cache.get(d.similar);
    out.push({ ...best(r), right: r.hit === true && r.id === idOf.get(d.origin), query: d.similar });
  }
  await cache.close();
  return out;
}

/** [{score, similarity, own, expect, kind, query, cached, matched}]: own = the best match is the case's cached question.
 * cases: the held-out test set by default (tests/js/quality-probes.mjs). */
export async function runProbes(embedder, extra = {}, cases = probeCases()) {
  const cache = await open(embedder, extra);
  const cached = [...new Set(cases.map((c) => c.cached))];
  for (const q of cached) await cache.put(q, q);
  const out = [];
  for (const c of cases) {
    const r = await cache.get(c.query);
    out.push({ ...best(r), own: r.hit === true && r.answer === c.cached, expect: c.expect, kind: c.kind, query: c.query, cached: c.cached });
  }
  await cache.close();
  return out;
}
