// OpenAI's Responses API (`POST /v1/responses`) as a caching proxy needs it: checking requests,
// reading a text answer from a response (JSON, or SSE with its typed events) and writing one back
// in the same shape. Only a plain text answer is cached: one assistant message of output_text
// parts (reasoning items beside it are not replayed); function calls, built-in tools, refusals
// and failed responses are not.
import { SemcacheError } from '../errors.js';
import type { AnswerMeta, Usage } from './answer.js';
import type { StreamCollector } from './sse.js';

/** Checks the request body's shape; throws SemcacheError('INVALID_REQUEST') naming the problem. */
export function checkResponsesBody(body: unknown): Record<string, unknown> {
  const bad = (m: string) => new SemcacheError('INVALID_REQUEST', m);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (b.model !== undefined && typeof b.model !== 'string') throw bad('`model` must be a string');
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw bad('`stream` must be a boolean');
  if (b.temperature !== undefined && (typeof b.temperature !== 'number' || !Number.isFinite(b.temperature))) throw bad('`temperature` must be a number');
  if (typeof b.input !== 'string' && !Array.isArray(b.input)) throw bad('`input` must be a string or an array of input items');
  if (Array.isArray(b.input)) {
    b.input.forEach((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw bad(`input[${i}] must be an object`);
    });
  }
  return b;
}

let counter = 0;
const newId = (prefix: string) => `${prefix}_semcache${Date.now().toString(36)}${(counter++).toString(36)}`;

const responsesUsage = (u: Usage | undefined) => {
  const p = u?.prompt_tokens ?? 0, c = u?.completion_tokens ?? 0;
  return { input_tokens: p, input_tokens_details: { cached_tokens: 0 }, output_tokens: c, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: p + c };
};

/** A Response object; `output` empty and usage null while in progress. */
function responseObject(id: string, model: string, status: 'in_progress' | 'completed' | 'incomplete', output: unknown[], usage: Usage | undefined | null) {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    model,
    output,
    usage: usage === null ? null : responsesUsage(usage),
  };
}

const messageItem = (id: string, text: string, status: 'in_progress' | 'completed') => ({
  id,
  type: 'message',
  status,
  role: 'assistant',
  content: status === 'completed' ? [{ type: 'output_text', text, annotations: [] }] : [],
});

const statusOf = (meta: AnswerMeta) => (meta.finish === 'length' ? 'incomplete' : 'completed');

/** A non-streamed response carrying an answer (output_text is the SDK's convenience field,
 * which the SDK also computes itself). */
export function responseJson(model: string, text: string, meta: AnswerMeta = {}) {
  return { ...responseObject(newId('resp'), model, statusOf(meta), [messageItem(newId('msg'), text, 'completed')], meta.usage), output_text: text };
}

/**
 * Writes a streamed response event by event, in the order the API sends them: created,
 * in_progress, the message item and its text part, one output_text.delta per piece, then the
 * done events and response.completed (response.incomplete when it was cut at max_output_tokens).
 */
export function responseWriter(model: string) {
  const enc = new TextEncoder();
  const id = newId('resp'), msgId = newId('msg');
  let seq = 0;
  let text = '';
  let started = false;
  const event = (type: string, data: object) => enc.encode(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  const at = { item_id: msgId, output_index: 0, content_index: 0 };
  const start = (): Uint8Array[] => {
    if (started) return [];
    started = true;
    return [
      event('response.created', { response: responseObject(id, model, 'in_progress', [], null) }),
      event('response.in_progress', { response: responseObject(id, model, 'in_progress', [], null) }),
      event('response.output_item.added', { output_index: 0, item: messageItem(msgId, '', 'in_progress') }),
      event('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } }),
    ];
  };
  return {
    piece(p: string): Uint8Array[] {
      text += p;
      return [...start(), event('response.output_text.delta', { ...at, delta: p, logprobs: [] })];
    },
    end(meta: AnswerMeta): Uint8Array[] {
      const item = messageItem(msgId, text, 'completed');
      const status = statusOf(meta);
      return [
        ...start(),
        event('response.output_text.done', { ...at, text, logprobs: [] }),
        event('response.content_part.done', { ...at, part: item.content[0] }),
        event('response.output_item.done', { output_index: 0, item }),
        event(`response.${status}`, { response: responseObject(id, model, status, [item], meta.usage) }),
      ];
    },
  };
}

const usageOfResponses = (u: unknown): Usage | undefined => {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
  return { prompt_tokens: n(o.input_tokens), completion_tokens: n(o.output_tokens), total_tokens: n(o.total_tokens) };
};

/** The text of a finished Response, with why it ended and its usage; null when it is not a
 * plain text answer (see the file's head). */
export function responseAnswerOf(json: unknown): { answer: string; meta: AnswerMeta } | null {
  const r = json as { status?: unknown; incomplete_details?: { reason?: unknown } | null; output?: unknown; usage?: unknown } | null;
  if (!r || typeof r !== 'object') return null;
  const cut = r.status === 'incomplete' && r.incomplete_details?.reason === 'max_output_tokens';
  if (r.status !== 'completed' && !cut) return null;
  if (!Array.isArray(r.output)) return null;
  const messages = r.output.filter((o) => (o as { type?: unknown })?.type === 'message');
  if (messages.length !== 1 || r.output.some((o) => !['message', 'reasoning'].includes((o as { type?: string })?.type ?? ''))) return null;
  const content = (messages[0] as { content?: unknown }).content;
  if (!Array.isArray(content) || content.length === 0 || content.some((c) => (c as { type?: unknown })?.type !== 'output_text' || typeof (c as { text?: unknown }).text !== 'string')) return null;
  return { answer: content.map((c) => (c as { text: string }).text).join(''), meta: { finish: cut ? 'length' : 'stop', usage: usageOfResponses(r.usage) } };
}

/** Reads a streamed response's events: the output_text deltas as they come, then the final
 * response object (response.completed / .incomplete), judged like a JSON one. */
export function responseCollector(): StreamCollector {
  const pieces: string[] = [];
  let final: ReturnType<typeof responseAnswerOf> = null;
  let broken = false;
  return {
    onEvent(data) {
      let e: { type?: unknown; delta?: unknown; response?: unknown };
      try {
        e = JSON.parse(data);
      } catch {
        broken = true;
        return undefined;
      }
      if (e.type === 'response.output_text.delta' && typeof e.delta === 'string') {
        pieces.push(e.delta);
        return e.delta;
      }
      if (e.type === 'response.completed' || e.type === 'response.incomplete') final = responseAnswerOf(e.response);
      if (e.type === 'response.failed' || e.type === 'error' || e.type === 'response.refusal.delta') broken = true;
      return undefined;
    },
    result() {
      if (broken || !final || final.answer !== pieces.join('')) return null;
      return { ...final.meta, chunks: pieces };
    },
  };
}
