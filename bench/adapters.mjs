#!/usr/bin/env node
// The SDK adapters' hit path against the cache's own, and a burst of similar misses.
//  - One SemanticCache with the bundled encoder (USE lite int8, ONNX Runtime Web in Node) and
//    memory storage; a fake OpenAI-compatible LLM on loopback (tests/js/fake-servers.mjs).
//  - N QQP questions are asked once through each adapter (misses: the fake answers, the entry is
//    stored in that adapter's scope). Then each question's lower-cased form (another prompt, so
//    the exact-match shortcut does not apply: embed, search, store read all run) is looked up
//    through cache.get() (in the OpenAI adapter's scope) and through each adapter end to end:
//    openai.chat.completions.create, generateText (AI SDK, @ai-sdk/openai chat model) and
//    ChatOpenAI.invoke (LangChain). The four run back to back per question, in a rotating order,
//    after a warm-up; only questions that hit on all four paths are counted.
//  - Burst: 20 concurrent paraphrases of one uncached question through the `npm start` server
//    (upstream: the fake, answering after 300 ms) — how many upstream calls they cause.
//   node bench/adapters.mjs [--n 200] [--warmup 10]
import os from 'node:os';
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, wrapLanguageModel } from 'ai';
import OpenAI from 'openai';
import { semanticCacheMiddleware } from '../dist/adapters/ai-sdk.js';
import { SemcacheLangChainCache } from '../dist/adapters/langchain.js';
import { withSemanticCache } from '../dist/adapters/openai.js';
import { requestKey } from '../dist/llm/request-key.js';
import { OnnxEmbedder, SemanticCache } from '../dist/node.js';
import { parseConfig } from '../dist/server/config.js';
import { startServer } from '../dist/server/main.js';
import { BURST_USE as BURST } from '../tests/js/burst-prompts.mjs';
import { startFakeUpstream } from '../tests/js/fake-servers.mjs';
import { qqpSplit } from './lib/quality-data.mjs';

const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = arg('--n', 200), WARMUP = arg('--warmup', 10);
const log = (s) => process.stderr.write(`${s}\n`);
const p50 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] * 1000) / 1000;
};

const upstream = await startFakeUpstream();
const cache = await SemanticCache.open({ embedder: await OnnxEmbedder.load(), maxEntries: 0 });
const MODEL = 'gpt-test';
const openai = withSemanticCache(new OpenAI({ apiKey: 'sk-bench', baseURL: `${upstream.url}/v1`, maxRetries: 0 }), cache);
const aiModel = wrapLanguageModel({ model: createOpenAI({ apiKey: 'sk-bench', baseURL: `${upstream.url}/v1` }).chat(MODEL), middleware: semanticCacheMiddleware(cache) });
const lc = new ChatOpenAI({ model: MODEL, apiKey: 'sk-bench', configuration: { baseURL: `${upstream.url}/v1` }, maxRetries: 0, cache: new SemcacheLangChainCache(cache) });

const paths = {
  cache: async (q) => {
    const key = await requestKey('chat', { model: MODEL, messages: [{ role: 'user', content: q }] });
    return (await cache.get(key.text, { scope: key.scope })).hit;
  },
  openai: async (q) => {
    const r = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: q }] }).withResponse();
    return r.response.headers.get('x-semcache') === 'hit';
  },
  ai_sdk: async (q) => (await generateText({ model: aiModel, prompt: q, maxRetries: 0 })).response.headers?.['x-semcache'] === 'hit',
  langchain: async (q) => {
    const before = upstream.calls.length;
    await lc.invoke(q);
    return upstream.calls.length === before;
  },
};
const adapters = ['openai', 'ai_sdk', 'langchain'];

const questions = [...new Set(qqpSplit().val.map((p) => p.a))].filter((q) => q !== q.toLowerCase() && q.length < 200).slice(0, N + WARMUP);
log(`adapters: ${questions.length} questions, one miss each through ${adapters.length} adapters…`);
for (const q of questions) for (const a of adapters) await paths[a](q);

log('adapters: the lower-cased questions through cache.get() and each adapter…');
const times = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
const order = Object.keys(paths);
let counted = 0, partial = 0;
for (const [i, q] of questions.entries()) {
  const p = q.toLowerCase();
  const round = {};
  let all = true;
  for (let k = 0; k < order.length; k++) {
    const name = order[(i + k) % order.length];
    const t = performance.now();
    const hit = await paths[name](p);
    round[name] = performance.now() - t;
    all &&= hit;
  }
  if (i < WARMUP) continue;
  if (!all) {
    partial++;
    continue;
  }
  counted++;
  for (const [name, ms] of Object.entries(round)) times[name].push(ms);
}
log(`adapters: ${counted} questions hit on every path, ${partial} did not (left out)`);

// Burst: the npm start server with the fake upstream behind it.
process.env.SEMCACHE_BENCH_KEY = 'sk-bench';  // a server-side key: entries are not kept per client key
const server = await startServer(parseConfig(['--upstream', upstream.url, '--upstream-key-env', 'SEMCACHE_BENCH_KEY', '--port', '0', '--storage', 'memory']), () => {});
upstream.delayMs = 300;
const before = upstream.calls.length;
const res = await Promise.all(
  BURST.map((content) =>
    fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }] }) }),
  ),
);
const statuses = await Promise.all(res.map(async (r) => (await r.text(), r.status)));
const burstCalls = upstream.calls.length - before;
log(`adapters: burst of ${BURST.length}: ${burstCalls} upstream call(s), statuses ${[...new Set(statuses)].join(',')}`);
await server.close();
await cache.close();
await upstream.close();

const out = {
  openai_hit_p50_ms: p50(times.openai),
  ai_sdk_hit_p50_ms: p50(times.ai_sdk),
  langchain_hit_p50_ms: p50(times.langchain),
  cache_hit_p50_ms: p50(times.cache),
  burst_upstream_calls: burstCalls,
  burst_requests: BURST.length,
};
log(`adapters: hit p50 ratios to get(): openai ${(out.openai_hit_p50_ms / out.cache_hit_p50_ms).toFixed(3)}, ai-sdk ${(out.ai_sdk_hit_p50_ms / out.cache_hit_p50_ms).toFixed(3)}, langchain ${(out.langchain_hit_p50_ms / out.cache_hit_p50_ms).toFixed(3)} (target <= 1.2; ${counted} hits each)`);
log(`adapters: load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(JSON.stringify(out));
