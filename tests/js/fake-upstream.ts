// A fake OpenAI-compatible LLM on 127.0.0.1 that counts calls: JSON and SSE replies, scripted
// failures, and a record of the headers it saw. (Implemented in fake-servers.mjs, shared with
// the benchmarks.)
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { SemanticCache } from 'semcache';
import { answerFor as answer, startFakeUpstream as start } from './fake-servers.mjs';
import { toyEmbedder } from './toy-vector.mjs';

export interface FakeUpstream {
  url: string;
  calls: { path: string; body: Record<string, unknown>; auth?: string }[];
  /** Every reply waits this long first (concurrent requests overlap). */
  delayMs: number;
  /** A streamed reply waits this long between its text pieces. */
  pieceDelayMs: number;
  /** Authorization header values answered with 401. */
  rejectKeys: Set<string>;
  /** Next replies are this status with this body (then back to normal). */
  failNext(status: number, body: string, times?: number): void;
  close(): Promise<void>;
}

export const answerFor: (body: Record<string, unknown>) => string = answer;
export const startFakeUpstream: () => Promise<FakeUpstream> = start;

/**
 * A fake upstream and a cache (toy bag-of-words embedder, threshold 0.8) for one test file:
 * made before its tests, reset before each (entries, recorded calls, delays), closed after.
 */
export function upstreamAndCache() {
  const ctx = {} as { upstream: FakeUpstream; cache: SemanticCache };
  beforeAll(async () => {
    ctx.upstream = await start();
    ctx.cache = await SemanticCache.open({ embedder: toyEmbedder(64), threshold: 0.8 });
  });
  afterAll(async () => {
    await ctx.upstream?.close();
    await ctx.cache?.close();
  });
  beforeEach(async () => {
    await ctx.cache.clear();
    ctx.upstream.calls.length = 0;
    ctx.upstream.delayMs = 0;
    ctx.upstream.pieceDelayMs = 0;
  });
  return ctx;
}
