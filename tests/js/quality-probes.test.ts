// The default setting on the project's probe set (tests/js/quality-probes.mjs, written for it):
// SemanticCache.open({ embedder: await OnnxEmbedder.load() }) with every cached question in one
// scope. Targets: every case/punctuation rewording hits its question (met), >= 80% of the
// paraphrases do and no near miss hits anything (not met yet: 46.5% and 1.3% (1 of 78) on
// 2026-12-04, see docs/quality.md). The bounds below are today's figures, so that a change that
// makes the default worse fails here; raise them with the model. (The floor was 50% for the
// previous default, 50.7%; the 2026-12-04 default trades three of these 71 paraphrases for
// fewer wrong hits in a populated cache, 1.2% against 2.1%, and more right ones everywhere else:
// docs/quality.md.) This set is the held-out test:
// features and operating points are developed on tools/evaluator-dev/dev-probes.mjs. Whatever hits must hit the question it
// rewords, never another cached one. `npm run bench -- quality` reports the same set.
import { describe, expect, it } from 'vitest';
import { OnnxEmbedder, SemanticCache } from 'semcache';
import { probeCases } from './quality-probes.mjs';

const PARAPHRASE_FLOOR = 0.45;
const NEAR_MISS_HIT_SHARE_MAX = 0.02;

describe('probe set, default setting', () => {
  it('rewordings hit their own question, near misses hit nothing', async () => {
    const embedder = await OnnxEmbedder.load();
    const cache = await SemanticCache.open({ embedder });
    const cases = probeCases();
    for (const q of new Set(cases.map((c) => c.cached))) await cache.put(q, q);
    const failed: string[] = [];
    const wrongQuestion: string[] = [];
    const tally = { casePunct: [0, 0], paraphrase: [0, 0], nearMiss: [0, 0] };
    for (const c of cases) {
      const r = await cache.get(c.query);
      const ok = c.expect === 'hit' ? r.hit && r.answer === c.cached : !r.hit;
      if (c.expect === 'hit' && r.hit && r.answer !== c.cached) wrongQuestion.push(`${c.query} -> ${r.matchedPrompt}`);
      const t = c.expect === 'miss' ? tally.nearMiss : c.kind === 'paraphrase' ? tally.paraphrase : tally.casePunct;
      t[0]! += ok ? 1 : 0;
      t[1]! += 1;
      if (!ok) failed.push(`${c.expect} expected [${c.kind}] ${c.query} ~ ${c.cached}: ${r.hit ? `hit ${JSON.stringify(r.matchedPrompt)} (${r.score.toFixed(3)})` : `miss (${r.score?.toFixed(3)})`}`);
    }
    await cache.close();
    await embedder.dispose();
    expect(cases.length).toBeGreaterThanOrEqual(100);
    const detail = failed.join('\n');
    expect(wrongQuestion, detail).toEqual([]);
    expect(tally.casePunct[0], detail).toBe(tally.casePunct[1]);
    expect(tally.paraphrase[0]! / tally.paraphrase[1]!, detail).toBeGreaterThanOrEqual(PARAPHRASE_FLOOR);
    expect((tally.nearMiss[1]! - tally.nearMiss[0]!) / tally.nearMiss[1]!, detail).toBeLessThanOrEqual(NEAR_MISS_HIT_SHARE_MAX);
  }, 300_000);
});
