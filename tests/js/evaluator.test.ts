// The 'learned' evaluator with the real default encoder (USE lite tuned for caching) and the
// bundled model (dist/models/evaluator/model.bin, trained on its embeddings by tools/build.mjs),
// per-entry feedback and the verifier hook.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, OnnxEmbedder, SemanticCache, SemcacheError } from 'semcache';
import { loadModule, root, toyEmbedder } from './helpers.js';

const MODEL = path.join(root, 'dist/models/evaluator/model.bin');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SemcacheError);
    return (e as SemcacheError).code;
  }
  return 'ok';
}

const HARD_NEGATIVES: [string, string][] = [
  ['How do I learn Python?', 'How do I learn Java?'],
  ['best laptop in 2016', 'best laptop in 2017'],
  ['is coffee good for you', 'is coffee bad for you'],
  ['What is 5 kg in pounds?', 'What is 50 kg in pounds?'],
  ['Convert 5 miles to kilometers', 'Convert 5 kilometers to miles'],  // swapped arguments
  ['how do i learn kotlin', 'how do i learn rust'],  // another entity of one kind, in lower case
];

describe('learned evaluator with the default encoder', () => {
  let embedder: OnnxEmbedder;
  let original: OnnxEmbedder;
  beforeAll(async () => {
    embedder = await OnnxEmbedder.load();
    original = await OnnxEmbedder.load({ model: 'use-lite' });
  }, 120_000);

  // int8: the model's projection reads the cached entry's vector decoded from its int8 code
  it.each(['f32', 'int8'] as const)('never hits the issue\'s hard negatives at the default setting; a paraphrase still hits (%s index)', async (space) => {
    const learned = await SemanticCache.open({ embedder, evaluator: 'learned', space });
    const cosine = await SemanticCache.open({ embedder: original, threshold: 0.8 });
    expect(await learned.stats()).toMatchObject({ evaluator: 'learned' });
    const p = (await learned.stats()).evaluatorThreshold;
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    let cosineHits = 0;
    for (const [i, [cached, query]] of HARD_NEGATIVES.entries()) {
      const scope = `neg-${i}`;
      await learned.put(cached, `answer to ${cached}`, { scope });
      await cosine.put(cached, `answer to ${cached}`, { scope });
      const r = await learned.get(query, { scope });
      expect(r.hit, `${query} | ${cached}: p = ${r.score}`).toBe(false);
      expect(r.score).toBeLessThan(p);
      if ((await cosine.get(query, { scope })).hit) cosineHits++;
    }
    // the point of the evaluator: a plain cosine (the original USE lite at 0.8) takes these
    expect(cosineHits).toBeGreaterThanOrEqual(3);
    await learned.put('How do I learn Python?', 'Start with the tutorial.', { scope: 'para' });
    const para = await learned.get('How can I learn Python?', { scope: 'para' });
    expect(para.hit, `p = ${para.score}`).toBe(true);
    if (para.hit) {
      expect(para.answer).toBe('Start with the tutorial.');
      expect(para.score).toBeGreaterThanOrEqual(p);
    }
    await learned.close();
    await cosine.close();
  }, 120_000);

  it('maxFalseHitRate moves the probability threshold', async () => {
    const strict = await SemanticCache.open({ embedder, evaluator: 'learned', maxFalseHitRate: 0.005 });
    const loose = await SemanticCache.open({ embedder, evaluator: 'learned', maxFalseHitRate: 0.2 });
    expect((await strict.stats()).evaluatorThreshold).toBeGreaterThan((await loose.stats()).evaluatorThreshold);
    await strict.close();
    await loose.close();
  }, 60_000);
});

describe('evaluator model files', () => {
  // the bundled model's projection is fitted to the default encoder: an embedder of that model (by id)
  const embedder = { id: 'use-lite-cache@test', dimensions: 512, embed: toyEmbedder(512) };
  it('refuses a model fitted to another encoder than the cache\'s', async () => {
    const bytes = new Uint8Array(fs.readFileSync(MODEL));
    const others = [toyEmbedder(512), { id: 'text-embedding-3-small', dimensions: 512, embed: toyEmbedder(512) }, { id: 'use-lite-q8@4c73b63b5c87', dimensions: 512, embed: toyEmbedder(512) }];
    for (const other of others) {
      const e = await SemanticCache.open({ embedder: other, evaluator: 'learned', evaluatorModel: bytes }).then(
        () => null,
        (err: SemcacheError) => err,
      );
      expect(e?.code).toBe('INVALID_ARGUMENT');
      expect(e?.message).toMatch(/trained on 'use-lite-cache' embeddings/);
    }
    // the cosine evaluator does not read the model
    const c = await SemanticCache.open({ embedder: toyEmbedder(512) });
    await c.close();
  });

  it('rejects corrupt, truncated and foreign-version files with clear codes', async () => {
    const bytes = new Uint8Array(fs.readFileSync(MODEL));
    const open = (m: Uint8Array) => SemanticCache.open({ embedder, evaluator: 'learned', evaluatorModel: m });
    const ok = await open(bytes);
    await ok.close();
    const flipped = bytes.slice();
    flipped[Math.floor(bytes.length / 2)] ^= 1;
    expect(await codeOf(open(flipped))).toBe('CORRUPT_SNAPSHOT');
    expect(await codeOf(open(bytes.slice(0, bytes.length - 100)))).toBe('CORRUPT_SNAPSHOT');
    const version = bytes.slice();
    version[4] = 99;  // a future format
    expect(await codeOf(open(version))).toBe('UNSUPPORTED_VERSION');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, ...new Array(40).fill(0)]);
    expect(await codeOf(open(png))).toBe('CORRUPT_SNAPSHOT');
    // an IDF-only file (what training starts from) is a valid file but no model
    const M = await loadModule();
    const idfOnly = M.EvaluatorModel.fromCorpus('how do I learn python\nhow do I learn java', 1);
    expect(await codeOf(open(idfOnly))).toBe('INVALID_ARGUMENT');
  });
});

describe('feedback', () => {
  const embedder = toyEmbedder(64);
  it('a wrong hit stops the same query from hitting; it persists through rows and snapshots', async () => {
    const store = new MemoryStore();
    const cache = await SemanticCache.open({ embedder, store, threshold: 0.8, snapshotEvery: 0 });
    const { id } = await cache.put('how do I reset my router password', 'Hold reset for 10 s.');
    const first = await cache.get('how do I reset my router password please');
    expect(first.hit).toBe(true);
    const { thresholdOffset } = await cache.feedback(id, { correct: false });
    expect(thresholdOffset).toBeGreaterThanOrEqual(0.05);
    if (first.hit) expect(0.8 + thresholdOffset).toBeGreaterThan(first.score);
    expect((await cache.get('how do I reset my router password please')).hit).toBe(false);
    expect((await cache.get('how do I reset my router password')).hit).toBe(true);  // exact match is not semantic
    expect((await store.get(id))?.thresholdOffset).toBe(thresholdOffset);
    await cache.close();  // writes a snapshot
    for (const snapshot of [true, false]) {
      if (!snapshot) {
        await store.open({ dimensions: 64, space: 'f32', embedder: 'unused' });  // the info exists already
        await store.saveSnapshot({ seq: -1, bytes: new Uint8Array(0) });  // stale: rebuild from rows
      }
      const again = await SemanticCache.open({ embedder, store, threshold: 0.8, snapshotEvery: 0 });
      expect((await again.get('how do I reset my router password please')).hit, `snapshot ${snapshot}`).toBe(false);
      await again.close();
    }
    // right hits lower the offset again, step by step
    const c2 = await SemanticCache.open({ embedder, store, threshold: 0.8 });
    const r1 = await c2.feedback(id, { correct: true });
    expect(r1.thresholdOffset).toBeCloseTo(thresholdOffset - 0.01, 5);
    expect(await codeOf(c2.feedback(999, { correct: true }))).toBe('NOT_FOUND');
    expect(await codeOf(c2.feedback(id, {} as { correct: boolean }))).toBe('INVALID_ARGUMENT');
    await c2.close();
  });
});

describe('verifier', () => {
  const embedder = toyEmbedder(64);
  const prompt = 'how do I reset my router password';
  const query = 'how do I reset my router password please';

  it('is asked only inside its band and decides there; timeouts and errors are misses', async () => {
    const calls: string[][] = [];
    let verdict: () => Promise<boolean> = async () => true;
    const errors: Error[] = [];
    const cache = await SemanticCache.open({
      embedder,
      threshold: 0.8,
      verifier: {
        fn: (q, p, a) => {
          calls.push([q, p, a]);
          return verdict();
        },
        band: [0.5, 0.99],
        timeoutMs: 50,
        onVerifierError: (e) => errors.push(e),
      },
    });
    await cache.put(prompt, 'Hold reset for 10 s.');
    const yes = await cache.get(query);
    expect(yes).toMatchObject({ hit: true, verified: true, answer: 'Hold reset for 10 s.' });
    expect(calls).toEqual([[query, prompt, 'Hold reset for 10 s.']]);
    verdict = async () => false;
    expect(await cache.get(query)).toMatchObject({ hit: false, verified: true });
    verdict = () => new Promise((r) => setTimeout(() => r(true), 500));
    expect((await cache.get(query)).hit).toBe(false);
    verdict = async () => {
      throw new Error('judge down');
    };
    expect((await cache.get(query)).hit).toBe(false);
    expect(errors.map((e) => e.message)).toEqual(['judge down']);
    const s = await cache.stats();
    expect(s).toMatchObject({ verifierCalls: 4, verifierTimeouts: 1, verifierErrors: 1 });
    // outside the band: the exact match (score 1) and an unrelated prompt never reach it
    expect((await cache.get(prompt)).hit).toBe(true);
    expect((await cache.get('what is the boiling point of water')).hit).toBe(false);
    expect((await cache.stats()).verifierCalls).toBe(4);
    await cache.close();
  });

  it('rejects malformed verifier options', async () => {
    expect(await codeOf(SemanticCache.open({ embedder, verifier: { fn: async () => true, band: [0.9, 0.1] } }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(SemanticCache.open({ embedder, verifier: { band: [0, 1] } as never }))).toBe('INVALID_ARGUMENT');
  });
});
