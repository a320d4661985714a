// OpenAI's chat completions and (legacy) completions as a caching proxy needs them: checking
// requests, reading answers (JSON and SSE) and writing them back in the upstream's shape.
import { SemcacheError } from '../errors.js';
import { usageOf, type AnswerMeta, type Usage } from './answer.js';
import type { StreamCollector } from './sse.js';

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

/** What a generation cost and why it ended (a cached answer replays what its generation
 * reported; one put by hand reports 0 tokens and 'stop'). */
export interface CompletionExtras {
  promptTokens?: number;
  completionTokens?: number;
  finishReason?: 'stop' | 'length';
}

export const extrasOf = (meta: AnswerMeta): CompletionExtras => ({
  promptTokens: meta.usage?.prompt_tokens,
  completionTokens: meta.usage?.completion_tokens,
  finishReason: meta.finish,
});

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
  const chunk = (delta: string | null, finish: string | null, first = false): Uint8Array => {
    const choice =
      endpoint === 'chat'
        ? { index: 0, delta: delta === null ? {} : first ? { role: 'assistant', content: delta } : { content: delta }, finish_reason: finish, logprobs: null }
        : { index: 0, text: delta ?? '', finish_reason: finish, logprobs: null };
    const obj = { id, object: endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion', created, model, choices: [choice] };
    return enc.encode(`data: ${JSON.stringify(obj)}\n\n`);
  };
  /** The chunk `stream_options.include_usage` asks for: no choices, the usage. */
  chunk.usage = (usage: Usage) => {
    const obj = { id, object: endpoint === 'chat' ? 'chat.completion.chunk' : 'text_completion', created, model, choices: [], usage };
    return enc.encode(`data: ${JSON.stringify(obj)}\n\n`);
  };
  return chunk;
}

/** Splits an answer into stream pieces (words with their trailing space) for replay. */
export function piecesOf(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

/** The answer of a non-streamed upstream completion with its finish reason and usage, or null
 * if it is not cacheable. */
export function answerOf(endpoint: Endpoint, json: unknown): { answer: string; meta: AnswerMeta } | null {
  const choices = (json as { choices?: unknown[] })?.choices;
  if (!Array.isArray(choices) || choices.length !== 1) return null;
  const c = choices[0] as { message?: ChatMessage; text?: string; finish_reason?: string };
  if (c.finish_reason && c.finish_reason !== 'stop' && c.finish_reason !== 'length') return null;
  const meta: AnswerMeta = { finish: c.finish_reason === 'length' ? 'length' : 'stop', usage: usageOf((json as { usage?: unknown }).usage) };
  if (endpoint === 'chat') {
    if (!c.message || c.message.tool_calls) return null;
    return typeof c.message.content === 'string' ? { answer: c.message.content, meta } : null;
  }
  return typeof c.text === 'string' ? { answer: c.text, meta } : null;
}

/**
 * Reads the events of a streamed completion: the text deltas, the finish reason and the usage.
 * Its result is cacheable when the stream ended with [DONE] after one choice finished with
 * 'stop' or 'length' and no tool call.
 */
export function chatCollector(endpoint: Endpoint): StreamCollector {
  const pieces: string[] = [];
  let finished = false;
  let finish: AnswerMeta['finish'];
  let usage: Usage | undefined;
  let cacheable = true;
  let sawDone = false;
  return {
    onEvent(data) {
      if (data === '[DONE]') {
        sawDone = true;
        return undefined;
      }
      let out = '';
      try {
        const obj = JSON.parse(data) as { choices?: { delta?: ChatMessage; text?: string; finish_reason?: string | null }[]; usage?: unknown };
        if (obj.usage) usage = usageOf(obj.usage);
        for (const c of obj.choices ?? []) {
          const t = endpoint === 'chat' ? c.delta?.content : c.text;
          if (endpoint === 'chat' && c.delta?.tool_calls) cacheable = false;
          if (typeof t === 'string' && t) {
            pieces.push(t);
            out += t;
          }
          if (c.finish_reason) {
            finished = true;
            if (c.finish_reason === 'stop' || c.finish_reason === 'length') finish = c.finish_reason;
            else cacheable = false;
          }
        }
        if ((obj.choices?.length ?? 0) > 1) cacheable = false;
      } catch {
        cacheable = false;
      }
      return out || undefined;
    },
    result: () => (cacheable && finished && sawDone ? { chunks: pieces, finish, usage } : null),
  };
}

/** Writes a streamed completion piece by piece (the replay of a hit, or a call following another
 * one in flight): the first piece carries the assistant role; `end` sends the finish reason, the
 * usage chunk when the client asked (include_usage), and [DONE]. */
export function chatWriter(endpoint: Endpoint, model: string, includeUsage: boolean) {
  const chunk = completionChunks(endpoint, model);
  let first = true;
  return {
    piece(text: string): Uint8Array[] {
      const out = chunk(text, null, first);
      first = false;
      return [out];
    },
    end(meta: AnswerMeta): Uint8Array[] {
      const out = [chunk(null, meta.finish ?? 'stop')];
      if (includeUsage) out.push(chunk.usage(meta.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }));
      out.push(SSE_DONE.slice());
      return out;
    },
  };
}
