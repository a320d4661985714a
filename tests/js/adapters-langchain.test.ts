// semcache/langchain with the real @langchain/core (1.x) and ChatOpenAI pointed at the fake
// upstream on loopback: `cache: new SemcacheLangChainCache(cache)` misses once, hits on a
// paraphrase with no upstream call, misses on another question; `cachedStreaming(model)` makes
// `.stream()` go through the cache, replaying chunk for chunk; a burst of similar misses makes
// one call.
import { ChatOpenAI } from '@langchain/openai';
import { describe, expect, it } from 'vitest';
import { cachedStreaming, SemcacheLangChainCache, turnsOf } from 'semcache/langchain';
import { BURST } from './burst-prompts.mjs';
import { upstreamAndCache } from './fake-upstream.js';

const ctx = upstreamAndCache();
const errors: string[] = [];

const Q = BURST[0]!;
const PARAPHRASE = BURST[1]!;
const OTHER = 'how tall is the highest mountain on earth';
const chatModel = (o: { temperature?: number } = {}) =>
  new ChatOpenAI({
    model: 'gpt-test',
    apiKey: 'sk-test',
    configuration: { baseURL: `${ctx.upstream.url}/v1` },
    maxRetries: 0,
    cache: new SemcacheLangChainCache(ctx.cache, { onCacheError: (e) => errors.push(e.message) }),
    ...o,
  });

it('reads the conversation LangChain hands a cache back into turns', () => {
  expect(turnsOf('System: be brief\nHuman: first line\nsecond line\nAI: an answer\nHuman: why?')).toEqual([
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'first line\nsecond line' },
    { role: 'assistant', content: 'an answer' },
    { role: 'user', content: 'why?' },
  ]);
  expect(turnsOf('a plain prompt')).toEqual([{ role: 'user', content: 'a plain prompt' }]);
});

describe('ChatOpenAI with cache: new SemcacheLangChainCache(...)', () => {
  it('a question misses once, a paraphrase hits with no call, another question misses', async () => {
    const model = chatModel();
    const a = await model.invoke([['system', 'be brief'], ['human', Q]]);
    expect(a.content).toBe('Answer #34 from gpt-test.');
    expect(ctx.upstream.calls).toHaveLength(1);
    const b = await model.invoke([['system', 'be brief'], ['human', PARAPHRASE]]);
    expect(b.content).toBe(a.content);
    expect(ctx.upstream.calls).toHaveLength(1);
    await model.invoke([['system', 'be brief'], ['human', OTHER]]);
    expect(ctx.upstream.calls).toHaveLength(2);
    // LangChain's llm string (model and parameters) scopes the entries
    await chatModel({ temperature: 1.5 }).invoke([['system', 'be brief'], ['human', PARAPHRASE]]);
    // and so does the rest of the conversation
    await model.invoke([['system', 'be verbose'], ['human', PARAPHRASE]]);
    expect(ctx.upstream.calls).toHaveLength(4);
    expect(errors).toEqual([]);
  });

  it('cachedStreaming: .stream() goes through the cache and replays chunk for chunk', async () => {
    const model = cachedStreaming(chatModel());
    const live: string[] = [];
    for await (const c of await model.stream(Q)) if (c.text) live.push(c.text);
    expect(live).toEqual(['Ans', 'wer', ' #34 from gpt-test.']);
    expect(ctx.upstream.calls).toHaveLength(1);
    const replay: string[] = [];
    for await (const c of await model.stream(PARAPHRASE)) if (c.text) replay.push(c.text);
    expect(replay).toEqual(live);
    expect(ctx.upstream.calls).toHaveLength(1);
    // the same entry answers .invoke() of a paraphrase
    expect((await model.invoke(BURST[2]!)).content).toBe(live.join(''));
    expect(ctx.upstream.calls).toHaveLength(1);
  });

  it('20 concurrent paraphrases make one model call', async () => {
    ctx.upstream.delayMs = 300;
    const model = chatModel();
    const answers = await Promise.all(BURST.map((q) => model.invoke(q)));
    expect(ctx.upstream.calls).toHaveLength(1);
    expect(new Set(answers.map((a) => a.content)).size).toBe(1);
  });
});
