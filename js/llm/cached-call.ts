// One OpenAI-style call through the cache, the same wherever it runs (the server, the edge
// worker, the OpenAI SDK adapter): a hit replays the stored answer in the shape the client asked
// for (JSON, or SSE chunk for chunk); a miss joins a similar call already in flight, or calls the
// upstream, streams its answer through while recording it and stores it once it completed.
import { followJoined, joinedAnswer, type Joined } from '../flights.js';
import { callLLM, consult, hitHeaders, recorderOf, type CallCache, type Recorder } from './consult.js';
import { answerMetaOf, type AnswerMeta } from './answer.js';
import { piecesOf } from './openai-chat.js';
import type { RequestKey, RequestKind } from './request-key.js';
import { sseBody, teeSse } from './sse.js';
import { WIRES, type Wire } from './wire.js';

export type { CallCache } from './consult.js';

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
  const v = await consult(c.cache, c.key, c);
  if ('hit' in v) {
    return reply(wire, model, c.body, v.hit, hitHeaders(v.hit.similarity, v.hit));
  }
  if ('join' in v) {
    const joined = await follow(wire, model, c.body, v.join);
    if (joined) return joined;
  }
  const record = recorderOf(v);
  const headers = { 'x-semcache': 'text' in c.key && c.lookup !== false ? 'miss' : 'bypass' };
  const res = await callLLM(record, c.upstream);
  if (!res.ok || !res.body) {
    record?.fail(`the upstream answered ${res.status}`);
    return passThrough(res, headers);
  }
  if (c.body.stream === true && (res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const tee = teeSse(res.body, wire.collector(), record && ((p) => record.piece(p)));
    if (record) {
      const saved = tee.done.then((got) => settle(record, got && { answer: got.chunks.join(''), meta: got }));
      c.waitUntil?.(saved);  // Node needs no keeping alive
    }
    return sse(tee.stream, headers);
  }
  const text = await res.text();
  if (record) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    await settle(record, wire.answerOf(parsed));
  }
  return new Response(text, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json', ...headers } });
}

/** Stores a cacheable answer (a blank one is not worth a lookup), or tells why there is none. */
function settle(record: Recorder, got: { answer: string; meta: AnswerMeta } | null): Promise<void> {
  if (got && got.answer.trim()) return record.done(got.answer, got.meta);
  record.fail('the answer is not cached');
  return Promise.resolve();
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
  const headers = hitHeaders(join.similarity, { joined: true });
  if (body.stream !== true) {
    const end = first.end ?? (await joinedAnswer(join));
    if ('failed' in end) return undefined;
    return reply(wire, model, body, { answer: end.answer, meta: answerMetaOf(end.metadata) }, headers);
  }
  const w = wire.writer(model, body);
  return sse(
    sseBody(async (emit) => {
      const meta = await followJoined(join, first, (piece) => w.piece(piece).forEach(emit));
      w.end(answerMetaOf(meta)).forEach(emit);
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
