// The slice of the OpenAI HTTP API a caching proxy needs: reading requests, deciding the cache
// key and scope, and writing completions (JSON and SSE) in the upstream's shape.
import { SemcacheError } from '../errors.js';
import type { Scope } from '../scope.js';

export interface ChatMessage {
  role: string;
  content?: string | { type: string; text?: string }[] | null;
  name?: string;
  tool_calls?: unknown;
}

export interface ChatRequest {
  model?: string;
  messages?: ChatMessage[];
  prompt?: string | string[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  n?: number;
  max_tokens?: number;
  tools?: unknown;
  tool_choice?: unknown;
  functions?: unknown;
  response_format?: unknown;
  seed?: number;
  stop?: unknown;
  [key: string]: unknown;
}

export type Endpoint = 'chat' | 'completions';

/** Text of a message's content (string, or the text parts of a multi-part content). */
export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.filter((p) => p?.type === 'text').map((p) => p.text ?? '').join('\n');
  return '';
}

/**
 * Temperature buckets: answers at 0 and at 1.2 are different products; answers at 0.7 and 0.8
 * are not worth separate cache entries.
 */
export function temperatureBucket(t: number | undefined): string {
  if (t === undefined) return 'default';
  if (t <= 0) return '0';
  if (t <= 0.4) return 'low';
  if (t <= 1) return 'mid';
  return 'high';
}

export interface CacheKey {
  /** The text looked up by meaning: the last user message (chat) or the prompt (completions). */
  prompt: string;
  /** Everything else that changes the answer; two scopes never share entries. */
  scope: Scope;
}

/**
 * The cache key of a request, or a reason it must not be cached. The conversation before the
 * last user message is part of the scope (hashed), so a follow-up question is only answered
 * from the cache in the same conversation context.
 */
export function cacheKeyOf(endpoint: Endpoint, body: ChatRequest, tenant: string): CacheKey | { uncacheable: string } {
  if ((body.n ?? 1) !== 1) return { uncacheable: 'n != 1' };
  if (body.tools || body.functions) return { uncacheable: 'tools or functions in the request' };
  const params: Record<string, unknown> = {
    endpoint,
    temperature: temperatureBucket(body.temperature),
  };
  for (const k of ['top_p', 'max_tokens', 'response_format', 'stop', 'seed'] as const) if (body[k] !== undefined) params[k] = body[k];
  let prompt: string;
  if (endpoint === 'chat') {
    const messages = body.messages ?? [];
    let last = -1;
    for (let i = messages.length - 1; i >= 0; i--) {
      if (messages[i]?.role === 'user') {
        last = i;
        break;
      }
    }
    if (last < 0) return { uncacheable: 'no user message' };
    prompt = textOf(messages[last]!.content);
    params.system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => textOf(m.content));
    const before = messages.slice(0, last).filter((m) => m.role !== 'system' && m.role !== 'developer');
    if (before.length) params.history = before.map((m) => [m.role, textOf(m.content)]);
  } else {
    if (Array.isArray(body.prompt)) {
      if (body.prompt.length !== 1) return { uncacheable: 'a batch of prompts' };
      prompt = String(body.prompt[0]);
    } else {
      prompt = String(body.prompt ?? '');
    }
  }
  if (!prompt.trim()) return { uncacheable: 'empty prompt' };
  return { prompt, scope: { model: String(body.model ?? ''), params, tenant } };
}

/** Checks the request body's shape; throws SemcacheError('INVALID_REQUEST') naming the problem. */
export function checkBody(endpoint: Endpoint, body: unknown): ChatRequest {
  const bad = (m: string) => new SemcacheError('INVALID_REQUEST', m);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('the request body must be a JSON object');
  const b = body as ChatRequest;
  if (b.model !== undefined && typeof b.model !== 'string') throw bad('`model` must be a string');
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw bad('`stream` must be a boolean');
  if (b.temperature !== undefined && (typeof b.temperature !== 'number' || !Number.isFinite(b.temperature))) {
    throw bad('`temperature` must be a number');
  }
  if (endpoint === 'chat') {
    if (!Array.isArray(b.messages) || b.messages.length === 0) throw bad('`messages` must be a non-empty array');
    b.messages.forEach((m, i) => {
      if (!m || typeof m !== 'object' || typeof m.role !== 'string') throw bad(`messages[${i}] needs a string \`role\``);
      const c = m.content;
      if (c !== undefined && c !== null && typeof c !== 'string' && !Array.isArray(c)) {
        throw bad(`messages[${i}].content must be a string or an array of parts`);
      }
    });
  } else if (typeof b.prompt !== 'string' && !(Array.isArray(b.prompt) && b.prompt.every((p) => typeof p === 'string'))) {
    throw bad('`prompt` must be a string or an array of strings');
  }
  return b;
}

let counter = 0;
const newId = (prefix: string) => `${prefix}-semcache-${Date.now().toString(36)}${(counter++).toString(36)}`;

/** What a generation cost and why it ended; a cached answer costs no tokens and ends with 'stop'. */
export interface CompletionExtras {
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: 'stop' | 'length';
}

/** A non-streamed completion carrying an answer, in the shape of the endpoint. */
export function completionJson(endpoint: Endpoint, model: string, text: string, extras: CompletionExtras = {}) {
  const created = Math.floor(Date.now() / 1000);
  const p = extras.promptTokens ?? 0, c = extras.completionTokens ?? 0;
  const usage = { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
  const finish_reason = extras.finishReason ?? 'stop';
  if (endpoint === 'chat') {
    return {
      id: newId('chatcmpl'),
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason, logprobs: null }],
      usage,
    };
  }
  return {
    id: newId('cmpl'),
    object: 'text_completion',
    created,
    model,
    choices: [{ index: 0, text, finish_reason, logprobs: null }],
    usage,
  };
}

/** The stream's last event. */
export const SSE_DONE = new TextEncoder().encode('data: [DONE]\n\n');

/**
 * The SSE events of one streamed completion in the shape of the endpoint: `chunk(delta, null,
 * first)` for a piece of text (the first one carries the assistant role), `chunk(null, 'stop')`
 * to finish; then SSE_DONE.
 */
export function completionChunks(endpoint: Endpoint, model: string) {
  const id = newId(endpoint === 'chat' ? 'chatcmpl' : 'cmpl');
  const created = Math.floor(Date.now() / 1000);
  const enc = new TextEncoder();
  return (delta: string | null, finish: string | null, first = false): Uint8Array => {
    const choice =
      endpoint === 'chat'
        ? { index: 0, delta: delta === null ? {} : first ? { role: 'assistant', content: delta } : { content: delta }, finish_reason: finish, logprobs: null }
        : { index: 0, text: delta ?? '', finish_reason: finish, logprobs: null };
    const obj = { id, object: endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion', created, model, choices: [choice] };
    return enc.encode(`data: ${JSON.stringify(obj)}\n\n`);
  };
}

/** SSE chunks replaying `pieces` (the original stream's deltas when we have them). */
export function completionStream(endpoint: Endpoint, model: string, pieces: string[]): ReadableStream<Uint8Array> {
  const chunk = completionChunks(endpoint, model);
  return new ReadableStream({
    start(controller) {
      pieces.forEach((p, i) => controller.enqueue(chunk(p, null, i === 0)));
      controller.enqueue(chunk(null, 'stop'));
      controller.enqueue(SSE_DONE.slice());
      controller.close();
    },
  });
}

/** Splits an answer into stream pieces (words with their trailing space) for replay. */
export function piecesOf(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

/** The answer text of a non-streamed upstream completion, or null if it is not cacheable. */
export function answerOf(endpoint: Endpoint, json: unknown): string | null {
  const choices = (json as { choices?: unknown[] })?.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return null;
  const c = choices[0] as { message?: ChatMessage; text?: string; finish_reason?: string };
  if (c.finish_reason && c.finish_reason !== 'stop' && c.finish_reason !== 'length') return null;
  if (endpoint === 'chat') {
    if (!c.message || c.message.tool_calls) return null;
    return typeof c.message.content === 'string' ? c.message.content : null;
  }
  return typeof c.text === 'string' ? c.text : null;
}

/**
 * Reads an SSE stream of completion chunks, passing every byte through, and collects the
 * text deltas. `done` resolves with the pieces when the stream ended cleanly with [DONE] and a
 * cacheable finish reason, else null.
 */
export function teeCompletionStream(endpoint: Endpoint, upstream: ReadableStream<Uint8Array>) {
  const pieces: string[] = [];
  let finished = false;
  let cacheable = true;
  let sawDone = false;
  let buffer = '';
  const dec = new TextDecoder();
  let resolveDone!: (p: string[] | null) => void;
  const done = new Promise<string[] | null>((r) => (resolveDone = r));
  const handleEvent = (data: string) => {
    if (data === '[DONE]') {
      sawDone = true;
      return;
    }
    try {
      const obj = JSON.parse(data) as { choices?: { delta?: ChatMessage; text?: string; finish_reason?: string | null }[] };
      for (const c of obj.choices ?? []) {
        const t = endpoint === 'chat' ? c.delta?.content : c.text;
        if (endpoint === 'chat' && c.delta?.tool_calls) cacheable = false;
        if (typeof t === 'string' && t) pieces.push(t);
        if (c.finish_reason) {
          finished = true;
          if (c.finish_reason !== 'stop' && c.finish_reason !== 'length') cacheable = false;
        }
      }
      if ((obj.choices?.length ?? 0) > 1) cacheable = false;
    } catch {
      cacheable = false;
    }
  };
  const stream = upstream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        buffer += dec.decode(chunk, { stream: true });
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const data = event
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (data) handleEvent(data);
        }
      },
      flush() {
        resolveDone(cacheable && finished && sawDone ? pieces : null);
      },
    }),
  );
  return { stream, done, abandon: () => resolveDone(null) };
}
