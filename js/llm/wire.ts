// The three OpenAI request kinds behind one interface: how a caching call reads an upstream's
// answer (JSON or SSE) and writes one back (a hit's replay, or a call that joined another in
// flight) in the shape its client expects.
import type { RequestKind } from './request-key.js';
import type { AnswerMeta } from './answer.js';
import { answerOf, chatCollector, chatWriter, checkBody, completionJson, extrasOf } from './openai-chat.js';
import { checkResponsesBody, responseAnswerOf, responseCollector, responseJson, responseWriter } from './openai-responses.js';
import type { StreamCollector } from './sse.js';

export interface EventWriter {
  /** The events carrying one more piece of text. */
  piece(text: string): Uint8Array[];
  /** The closing events: why it ended, the usage, the end marker. */
  end(meta: AnswerMeta): Uint8Array[];
}

export interface Wire {
  /** Checks a request body's shape (throws SemcacheError INVALID_REQUEST). */
  check(body: unknown): Record<string, unknown>;
  /** A non-streamed reply carrying `text`. */
  json(model: string, text: string, meta: AnswerMeta): unknown;
  /** A streamed reply, written as its pieces come. */
  writer(model: string, body: Record<string, unknown>): EventWriter;
  /** The answer of a non-streamed upstream reply, or null when it is not cacheable. */
  answerOf(json: unknown): { answer: string; meta: AnswerMeta } | null;
  /** Reads a streamed upstream reply. */
  collector(): StreamCollector;
}

const includeUsage = (body: Record<string, unknown>) => (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;

const chatLike = (kind: 'chat' | 'completions'): Wire => ({
  check: (body) => checkBody(kind, body),
  json: (model, text, meta) => completionJson(kind, model, text, extrasOf(meta)),
  writer: (model, body) => chatWriter(kind, model, includeUsage(body)),
  answerOf: (json) => answerOf(kind, json),
  collector: () => chatCollector(kind),
});

export const WIRES: Record<RequestKind, Wire> = {
  chat: chatLike('chat'),
  completions: chatLike('completions'),
  responses: {
    check: checkResponsesBody,
    json: responseJson,
    writer: (model) => responseWriter(model),
    answerOf: responseAnswerOf,
    collector: responseCollector,
  },
};
