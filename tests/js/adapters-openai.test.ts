// semcache/openai with the real OpenAI SDK (its current major) against the fake upstream on
// loopback: chat completions, completions and responses, JSON and streamed; misses call the
// upstream once, paraphrases hit with no call, a cached stream replays chunk for chunk, and a
// burst of similar misses makes one call.
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { semanticCacheFetch, withSemanticCache } from 'semcache/openai';
import { upstreamAndCache } from './fake-upstream.js';
import { BURST } from './burst-prompts.mjs';

const ctx = upstreamAndCache();
let client: OpenAI;
const errors: string[] = [];
beforeAll(() => {
  client = withSemanticCache(new OpenAI({ apiKey: 'sk-test', baseURL: `${ctx.upstream.url}/v1`, maxRetries: 0 }), ctx.cache, { onCacheError: (e) => errors.push(e.message) });
});

const Q = 'what is the capital city of france';
const PARAPHRASE = 'so what is the capital city of france';
const OTHER = 'how tall is the highest mountain on earth';
const messages = (content: string) => [{ role: 'system' as const, content: 'be brief' }, { role: 'user' as const, content }];

/** The text deltas of a chat stream, in order. */
async function chatDeltas(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const out: string[] = [];
  for await (const chunk of stream) {
    const t = chunk.choices[0]?.delta?.content;
    if (t) out.push(t);
  }
  return out;
}

describe('chat completions', () => {
  it('a miss calls the API once, a paraphrase hits with no call, another question misses', async () => {
    const a = await client.chat.completions.create({ model: 'gpt-test', messages: messages(Q) }).withResponse();
    expect(a.response.headers.get('x-semcache')).toBe('miss');
    expect(ctx.upstream.calls).toHaveLength(1);
    const b = await client.chat.completions.create({ model: 'gpt-test', messages: messages(PARAPHRASE) }).withResponse();
    expect(b.response.headers.get('x-semcache')).toBe('hit');
    expect(b.data.choices[0]!.message.content).toBe(a.data.choices[0]!.message.content);
    expect(b.data.usage).toEqual(a.data.usage);  // the stored usage, replayed
    expect(ctx.upstream.calls).toHaveLength(1);
    const c = await client.chat.completions.create({ model: 'gpt-test', messages: messages(OTHER) });
    expect(c.choices[0]!.message.content).not.toBe(a.data.choices[0]!.message.content);
    expect(ctx.upstream.calls).toHaveLength(2);
    // another model is another scope
    await client.chat.completions.create({ model: 'gpt-other', messages: messages(Q) });
    expect(ctx.upstream.calls).toHaveLength(3);
  });

  it('streams a miss through while recording it, and replays it chunk for chunk', async () => {
    const live = await chatDeltas(await client.chat.completions.create({ model: 'gpt-test', messages: messages(Q), stream: true }));
    expect(live).toEqual(['Ans', 'wer', ' #34 from gpt-test.']);
    expect(ctx.upstream.calls).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 20));  // stored once the stream ended
    const replay = await chatDeltas(await client.chat.completions.create({ model: 'gpt-test', messages: messages(PARAPHRASE), stream: true }));
    expect(replay).toEqual(live);
    expect(ctx.upstream.calls).toHaveLength(1);
    // the same entry answers a non-streamed paraphrase, and the stream's usage chunk when asked
    const json = await client.chat.completions.create({ model: 'gpt-test', messages: messages(PARAPHRASE) });
    expect(json.choices[0]!.message.content).toBe(live.join(''));
    const withUsage = await client.chat.completions.create({ model: 'gpt-test', messages: messages(PARAPHRASE), stream: true, stream_options: { include_usage: true } });
    let usage: unknown;
    for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 0, completion_tokens: 0 });  // the stream carried none
    expect(ctx.upstream.calls).toHaveLength(1);
  });

  it('does not cache n > 1 or a request that says no-store', async () => {
    await client.chat.completions.create({ model: 'gpt-test', messages: messages(Q), n: 2 });
    await client.chat.completions.create({ model: 'gpt-test', messages: messages(Q), n: 2 });
    expect(ctx.upstream.calls).toHaveLength(2);
    await client.chat.completions.create({ model: 'gpt-test', messages: messages(Q) }, { headers: { 'cache-control': 'no-store' } });
    await client.chat.completions.create({ model: 'gpt-test', messages: messages(Q) }, { headers: { 'cache-control': 'no-store' } });
    expect(ctx.upstream.calls).toHaveLength(4);
  });

  it('20 concurrent paraphrases through the SDK make one API call', async () => {
    ctx.upstream.delayMs = 300;
    const answers = await Promise.all(BURST.map((q) => client.chat.completions.create({ model: 'gpt-test', messages: messages(q) })));
    expect(ctx.upstream.calls).toHaveLength(1);
    expect(new Set(answers.map((a) => a.choices[0]!.message.content)).size).toBe(1);
  });
});

describe('responses', () => {
  it('a miss calls the API once, a paraphrase hits with no call, another question misses', async () => {
    const a = await client.responses.create({ model: 'gpt-test', instructions: 'be brief', input: Q }).withResponse();
    expect(a.response.headers.get('x-semcache')).toBe('miss');
    expect(a.data.output_text).toBe('Answer #34 from gpt-test.');
    const b = await client.responses.create({ model: 'gpt-test', instructions: 'be brief', input: PARAPHRASE }).withResponse();
    expect(b.response.headers.get('x-semcache')).toBe('hit');
    expect(b.data.output_text).toBe(a.data.output_text);
    expect(b.data.status).toBe('completed');
    expect(b.data.usage).toMatchObject({ input_tokens: 7, output_tokens: 4 });
    expect(ctx.upstream.calls).toHaveLength(1);
    // other instructions are another scope; so is another question
    await client.responses.create({ model: 'gpt-test', instructions: 'be verbose', input: PARAPHRASE });
    await client.responses.create({ model: 'gpt-test', instructions: 'be brief', input: OTHER });
    expect(ctx.upstream.calls).toHaveLength(3);
  });

  it('streams typed events; a hit replays the deltas chunk for chunk', async () => {
    const events = async (input: string) => {
      const out: { type: string; delta?: string }[] = [];
      for await (const e of await client.responses.create({ model: 'gpt-test', input: [{ role: 'user', content: input }], stream: true })) out.push(e as never);
      return out;
    };
    const live = await events(Q);
    const deltas = (es: { type: string; delta?: string }[]) => es.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta);
    expect(deltas(live)).toEqual(['Ans', 'wer', ' #34 from gpt-test.']);
    await new Promise((r) => setTimeout(r, 20));
    const replay = await events(PARAPHRASE);
    expect(deltas(replay)).toEqual(deltas(live));
    expect(replay.map((e) => e.type)).toEqual(live.map((e) => e.type));  // the same event sequence
    expect(ctx.upstream.calls).toHaveLength(1);
    // the SDK's stream helper assembles the replay like a live response
    const stream = client.responses.stream({ model: 'gpt-test', input: [{ role: 'user', content: PARAPHRASE }] });
    expect((await stream.finalResponse()).output_text).toBe('Answer #34 from gpt-test.');
    expect(ctx.upstream.calls).toHaveLength(1);
  });

  it('store: false bypasses the cache', async () => {
    await client.responses.create({ model: 'gpt-test', input: Q, store: false });
    await client.responses.create({ model: 'gpt-test', input: Q, store: false });
    expect(ctx.upstream.calls).toHaveLength(2);
  });
});

describe('completions and other routes', () => {
  it('caches completions and passes anything else through', async () => {
    const a = await client.completions.create({ model: 'gpt-test', prompt: Q });
    const b = await client.completions.create({ model: 'gpt-test', prompt: PARAPHRASE });
    expect(b.choices[0]!.text).toBe(a.choices[0]!.text);
    expect(ctx.upstream.calls).toHaveLength(1);
    const raw = semanticCacheFetch(ctx.cache, { fetch });
    const r = await raw(`${ctx.upstream.url}/v1/models`, { method: 'GET' });
    expect(ctx.upstream.calls.at(-1)!.path).toBe('/v1/models');
    expect(r.headers.get('x-semcache')).toBeNull();
    expect(errors).toEqual([]);
  });
});
