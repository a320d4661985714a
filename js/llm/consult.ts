// What every caching LLM call (the server, the edge worker, the SDK adapters) asks the cache
// before calling the LLM: a stored answer, a similar call in flight to join, or a miss whose
// answer is to be recorded (and shared with the calls that join it while it is produced).
import type { Joined, Leader } from '../flights.js';
import type { GetResult, PutResult } from '../api.js';
import type { ScopeInput } from '../scope.js';
import { answerMetaOf, type AnswerMeta } from './answer.js';
import type { RequestKey } from './request-key.js';
import type { BeginResult } from '../flights.js';

/** What a caching call needs of a cache: lookups, puts, and (to share one LLM call among similar
 * misses) begin. A SemanticCache has all three. */
export interface CallCache {
  get(prompt: string, options?: { scope?: ScopeInput }): Promise<GetResult>;
  put(prompt: string, answer: string, options?: { scope?: ScopeInput; metadata?: unknown; ttl?: number }): Promise<PutResult>;
  begin?(prompt: string, options?: { scope?: ScopeInput }): Promise<BeginResult>;
}

/** Takes a miss's answer as the LLM produces it. */
export interface Recorder {
  /** One more piece of a streamed answer (calls that joined this one see it at once). */
  piece(text: string): void;
  /** The whole answer: stored (with the stream's pieces, finish reason and usage in `meta`). */
  done(answer: string, meta: AnswerMeta): Promise<void>;
  /** Nothing to store (the LLM failed, or its answer is not cacheable). */
  fail(reason: string): void;
}

export type Verdict =
  | { hit: { answer: string; meta: AnswerMeta; similarity: number; id: number } }
  | { join: Joined; record: Recorder | undefined }
  | { miss: Recorder | undefined };

export interface ConsultOptions {
  /** false: do not look up (Cache-Control: no-cache / no-store). Default true. */
  lookup?: boolean;
  /** false: do not store (Cache-Control: no-store). Default true. */
  store?: boolean;
  /** Cache failures: the call goes on to the LLM all the same. */
  report(e: unknown, where: string): void;
}

/** Asks the cache about a request's key (see js/llm/request-key.ts); never throws. */
export async function consult(cache: CallCache | undefined, key: RequestKey, o: ConsultOptions): Promise<Verdict> {
  if (!cache || !('text' in key)) return { miss: undefined };
  const { text, scope } = key;
  const store = o.store !== false;
  const put = (lead?: Leader): Recorder | undefined =>
    store
      ? {
          piece: (p) => lead?.piece(p),
          async done(answer, meta) {
            try {
              if (lead) await lead.done(answer, { metadata: meta });
              else await cache.put(text, answer, { scope, metadata: meta });
            } catch (e) {
              o.report(e, 'put');
            }
          },
          fail: (reason) => lead?.fail(reason),
        }
      : undefined;
  if (o.lookup === false) return { miss: put() };
  try {
    const r = cache.begin && store ? await cache.begin(text, { scope }) : await cache.get(text, { scope });
    if (r.hit) return { hit: { answer: r.answer, meta: answerMetaOf(r.metadata), similarity: r.similarity, id: r.id } };
    const flight = r as { join?: Joined; lead?: Leader };
    // a joined call that is let through (the first failed) records its own answer: no flight
    if (flight.join) return { join: flight.join, record: put() };
    return { miss: put(flight.lead) };
  } catch (e) {
    o.report(e, 'get');
    return { miss: put() };
  }
}

/** Who records the answer after a verdict that was no hit: the miss's recorder, or that of a
 * joined call whose flight failed (it calls the LLM itself). */
export const recorderOf = (v: Exclude<Verdict, { hit: unknown }>): Recorder | undefined => ('join' in v ? v.record : v.miss);

/** Calls the LLM; if that throws, the recorder (and the calls that joined it) learn so at once. */
export async function callLLM<T>(record: Recorder | undefined, call: () => PromiseLike<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    record?.fail((e as Error)?.message ?? String(e));
    throw e;
  }
}

/** The headers that say an answer came from the cache: a stored entry (its id) or a similar call
 * in flight that this one joined. */
export function hitHeaders(similarity: number, from: { id: number } | { joined: true }): Record<string, string> {
  const h: Record<string, string> = { 'x-semcache': 'hit', 'x-semcache-similarity': similarity.toFixed(4) };
  if ('id' in from) h['x-semcache-id'] = String(from.id);
  else h['x-semcache-joined'] = 'true';
  return h;
}
