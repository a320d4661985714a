// One OpenAI-style call through the cache, the same wherever it runs (the server, the edge
// worker, the OpenAI SDK adapter): a hit replays the stored answer in the shape the client asked
// for (JSON, or SSE chunk for chunk); a miss joins a similar call already in flight, or calls the
// upstream, streams its answer through while recording it and stores it once it completed.
import type { GetResult, PutResult } from '../semantic-cache.js';
import type { ScopeInput } from '../scope.js';
import type { BeginResult, FlightEnd, Joined, Leader } from '../flights.js';
import { SemcacheError } from '../errors.js';
import { answerMetaOf, piecesOf, type AnswerMeta } from './openai-chat.js';
import type { RequestKey, RequestKind } from './request-key.js';
import { sseBody, teeSse } from './sse.js';
import { WIRES, type Wire } from './wire.js';

/** What a cached call needs of a cache: lookups, puts, and (to share one LLM call among similar
 * misses) begin. */
export interface CallCache {
  get(prompt: string, options?: { scope?: ScopeInput }): Promise<GetResult>;
  put(prompt: string, answer: string, options?: { scope?: ScopeInput; metadata?: unknown; ttl?: number }): Promise<PutResult>;
  begin?(prompt: string, options?: { scope?: ScopeInput }): Promise<BeginResult>;
}

export interface CachedCallInput {
  kind: RequestKind;
  /** The request body, its shape already checked (Wire.check). */
  body: Record<string, unknown>;
  key: RequestKey;
  /** Undefined when the cache could not be opened: the call still goes through. */
  cache?: CallCache;
  /** false: do not look up (Cache-Control: no-cache / no-store). */
  lookup?: boolean;
  /** false: do not store (Cache-Control: no-store). */
  store?: boolean;
  /** Calls the LLM with the body as it was sent. May throw (SemcacheError UPSTREAM_*). */
  upstream(): Promise<Response>;
  /** Keeps the store of a streamed answer alive after the response (edge runtimes). */
  waitUntil?: (p: Promise<unknown>) => void;
  /** Cache failures: the call itself is answered all the same. */
  report(e: unknown, where: string): void;
}

export async function cachedCall(c: CachedCallInput): Promise<Response> {
  const wire = WIRES[c.kind];
  const model = typeof c.body.model === 'string' ? c.body.model : '';
  const stream = c.body.stream === true;
  const key = 'text' in c.key ? c.key : undefined;
  const lookup = c.lookup !== false, store = c.store !== false;
  let lead: Leader | undefined;
  if (c.cache && key && lookup) {
    try {
      const r = c.cache.begin && store ? await c.cache.begin(key.text, { scope: key.scope }) : await c.cache.get(key.text, { scope: key.scope });
      if (r.hit) {
        const headers = { 'x-semcache': 'hit', 'x-semcache-similarity': r.similarity.toFixed(4), 'x-semcache-id': String(r.id) };
        return reply(wire, model, c.body, { answer: r.answer, meta: answerMetaOf(r.metadata) }, headers);
      }
      const flight = r as { join?: Joined; lead?: Leader };
      if (flight.join) {
        const joined = await follow(wire, model, c.body, flight.join);
        if (joined) return joined;
      } else {
        lead = flight.lead;
      }
    } catch (e) {
      c.report(e, 'get');
    }
  }
  const headers = { 'x-semcache': key && lookup ? 'miss' : 'bypass' };
  let res: Response;
  try {
    res = await c.upstream();
  } catch (e) {
    lead?.fail((e as Error)?.message ?? String(e));
    throw e;
  }
  if (!res.ok || !res.body) {
    lead?.fail(`the upstream answered ${res.status}`);
    return passThrough(res, headers);
  }
  const save = async (answer: string, meta: AnswerMeta) => {
    try {
      if (lead) await lead.done(answer, { metadata: meta });
      else await c.cache!.put(key!.text, answer, { scope: key!.scope, metadata: meta });
    } catch (e) {
      c.report(e, 'put');
    }
  };
  const saving = c.cache && key && store;
  if (stream && (res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const tee = teeSse(res.body, wire.collector(), lead ? (p) => lead!.piece(p) : undefined);
    if (saving) {
      const saved = tee.done.then((got) => (got && got.chunks.join('').trim() ? save(got.chunks.join(''), got) : lead?.fail('the answer is not cached')));
      c.waitUntil?.(saved);  // Node needs no keeping alive
    }
    return sse(tee.stream, headers);
  }
  const text = await res.text();
  if (saving) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const got = wire.answerOf(parsed);
    if (got && got.answer.trim()) await save(got.answer, got.meta);
    else lead?.fail('the answer is not cached');
  } else {
    lead?.fail('the answer is not stored');
  }
  return new Response(text, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', ...headers } });
}

/** A stored answer in the shape the client asked for: JSON, or its stream replayed piece by
 * piece (the upstream's own pieces when it was streamed). */
function reply(wire: Wire, model: string, body: Record<string, unknown>, got: { answer: string; meta: AnswerMeta }, headers: Record<string, string>): Response {
  if (body.stream !== true) return json(wire.json(model, got.answer, got.meta), headers);
  const w = wire.writer(model, body);
  const events = [...(got.meta.chunks ?? piecesOf(got.answer)).flatMap((p) => w.piece(p)), ...w.end(got.meta)];
  return sse(sseBody(async (emit) => events.forEach(emit)), headers);
}

/**
 * Answers from the call this one joined. Undefined when that call failed before sending
 * anything: this one then calls the upstream itself. A streamed reply starts with the first
 * piece and follows the other call as it produces them.
 */
async function follow(wire: Wire, model: string, body: Record<string, unknown>, join: Joined): Promise<Response | undefined> {
  const first = await join.next(0);
  if (first.end && 'failed' in first.end) return undefined;
  const headers = { 'x-semcache': 'hit', 'x-semcache-similarity': join.similarity.toFixed(4), 'x-semcache-joined': 'true' };
  if (body.stream !== true || !first.pieces.length) {
    let end: FlightEnd | undefined = first.end;
    for (let seen = first.pieces.length; !end; ) {
      const p = await join.next(seen);
      seen += p.pieces.length;
      end = p.end;
    }
    if ('failed' in end) return undefined;
    return reply(wire, model, body, { answer: end.answer, meta: answerMetaOf(end.metadata) }, headers);
  }
  const w = wire.writer(model, body);
  return sse(
    sseBody(async (emit) => {
      for (let p = first, seen = 0; ; p = await join.next(seen)) {
        for (const piece of p.pieces) w.piece(piece).forEach(emit);
        seen += p.pieces.length;
        if (!p.end) continue;
        if ('failed' in p.end) throw new SemcacheError('UPSTREAM_FAILED', `the similar call this one joined failed: ${p.end.failed}`);
        w.end(answerMetaOf(p.end.metadata)).forEach(emit);
        return;
      }
    }),
    headers,
  );
}

function json(body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', ...headers } });
}

function sse(stream: ReadableStream<Uint8Array>, headers: Record<string, string>): Response {
  return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...headers } });
}

function passThrough(res: Response, headers: Record<string, string>): Response {
  const h = new Headers(res.headers);
  for (const [k, v] of Object.entries(headers)) h.set(k, v);
  h.delete('content-encoding');
  h.delete('content-length');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
}
