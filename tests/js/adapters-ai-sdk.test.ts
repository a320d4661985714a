// semcache/ai-sdk with the real AI SDK (ai@7, the v4 middleware interface) and its OpenAI
// provider pointed at the fake upstream on loopback: generateText and streamText miss once, hit
// on a paraphrase with no upstream call, miss on another question; a cached stream replays its
// text deltas chunk for chunk; a burst of similar misses makes one call.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { beforeAll, describe, expect, it } from 'vitest';
import { semanticCacheMiddleware } from 'semcache/ai-sdk';
import { BURST } from './burst-prompts.mjs';
import { upstreamAndCache } from './fake-upstream.js';

const ctx = upstreamAndCache();
let provider: ReturnType<typeof createOpenAI>;
const errors: string[] = [];
beforeAll(() => {
  provider = createOpenAI({ apiKey: 'sk-test', baseURL: `${ctx.upstream.url}/v1` });
});

const Q = BURST[0]!;
const PARAPHRASE = BURST[1]!;
const OTHER = 'how tall is the highest mountain on earth';
const middleware = () => semanticCacheMiddleware(ctx.cache, { onCacheError: (e) => errors.push(e.message) });

// Both of the provider's APIs: chat completions and (its default) responses.
for (const api of ['chat', 'responses'] as const) {
  describe(`through the ${api} API`, () => {
    const model = () => wrapLanguageModel({ model: provider[api]('gpt-test'), middleware: middleware() });

    it('generateText: a miss calls once, a paraphrase hits with no call, another question misses', async () => {
      const a = await generateText({ model: model(), system: 'be brief', prompt: Q, maxRetries: 0 });
      expect(a.text).toBe('Answer #34 from gpt-test.');
      expect(a.response.headers?.['x-semcache']).toBeUndefined();
      expect(ctx.upstream.calls).toHaveLength(1);
      const b = await generateText({ model: model(), system: 'be brief', prompt: PARAPHRASE, maxRetries: 0 });
      expect(b.text).toBe(a.text);
      expect(b.response.headers?.['x-semcache']).toBe('hit');
      expect(b.finishReason).toBe('stop');
      expect(b.usage.inputTokens).toBe(7);  // the stored usage
      expect(ctx.upstream.calls).toHaveLength(1);
      const c = await generateText({ model: model(), system: 'be brief', prompt: OTHER, maxRetries: 0 });
      expect(c.text).not.toBe(a.text);
      // another system prompt, or other settings that change the answer, are other scopes
      await generateText({ model: model(), system: 'be verbose', prompt: PARAPHRASE, maxRetries: 0 });
      await generateText({ model: model(), system: 'be brief', prompt: PARAPHRASE, temperature: 1.5, maxRetries: 0 });
      expect(ctx.upstream.calls).toHaveLength(4);
      expect(errors).toEqual([]);
    });

    it('streamText: streams a miss through, replays it chunk for chunk', async () => {
      const live = streamText({ model: model(), prompt: Q, maxRetries: 0 });
      const pieces: string[] = [];
      for await (const t of live.textStream) pieces.push(t);
      expect(pieces).toEqual(['Ans', 'wer', ' #34 from gpt-test.']);
      expect(ctx.upstream.calls).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 20));
      const replay = streamText({ model: model(), prompt: PARAPHRASE, maxRetries: 0 });
      const again: string[] = [];
      for await (const t of replay.textStream) again.push(t);
      expect(again).toEqual(pieces);
      expect(await replay.finishReason).toBe('stop');
      expect(ctx.upstream.calls).toHaveLength(1);
      // a streamed answer serves generateText too, and the other way round
      expect((await generateText({ model: model(), prompt: PARAPHRASE, maxRetries: 0 })).text).toBe(pieces.join(''));
      expect(ctx.upstream.calls).toHaveLength(1);
    });
  });
}

describe('bypass and burst', () => {
  const model = () => wrapLanguageModel({ model: provider.chat('gpt-test'), middleware: middleware() });

  it('a call with settings outside the key (topK) is not cached', async () => {
    await generateText({ model: model(), prompt: Q, topK: 5, maxRetries: 0 });
    await generateText({ model: model(), prompt: Q, topK: 5, maxRetries: 0 });
    expect(ctx.upstream.calls).toHaveLength(2);
  });

  it('20 concurrent paraphrases make one model call, streamed or not', async () => {
    ctx.upstream.delayMs = 300;
    const texts = await Promise.all(
      BURST.map(async (prompt, i) => {
        if (i % 2) return (await generateText({ model: model(), prompt, maxRetries: 0 })).text;
        let t = '';
        for await (const piece of streamText({ model: model(), prompt, maxRetries: 0 }).textStream) t += piece;
        return t;
      }),
    );
    expect(ctx.upstream.calls).toHaveLength(1);
    expect(new Set(texts).size).toBe(1);
  });
});
