// The one request -> cache key function: for an OpenAI-style request body (chat completions,
// completions, responses) it returns the text looked up by meaning and the scope (everything
// else that changes the answer), or the reason the request must bypass the cache. Shared by the
// server, the edge worker and the SDK adapters, so it imports nothing platform-specific. The
// rules are documented in docs/security.md, "What is in the key"; every field of every kind is
// in one of the tables below, and a field in none of them bypasses the cache.
import type { Scope } from '../scope.js';
import { canonicalJson, sha256Hex } from './canonical.js';

export type RequestKind = 'chat' | 'completions' | 'responses';

export type RequestKey =
  | { /** Looked up by meaning: the last user turn (or the prompt). */ text: string; /** Everything else that changes the answer. */ scope: Scope }
  | { /** Why this request is neither looked up nor stored. */ bypass: string };

export interface RequestKeyOptions {
  /** The caller's tenant (a verified one, when the deployment has a source for it). */
  tenant?: string;
  /** A keyed hash of the client's upstream credential, when the upstream sees the client's own
   * key (pass-through): then each credential has its own entries. */
  credential?: string;
}

/** How a field enters the key. */
type Rule =
  | 'ignore'  // known not to change the answer
  | 'param'  // in the scope by value (short sampling settings)
  | 'context'  // in the scope by hash (schemas, instructions, conversation state)
  | ((value: unknown) => 'param' | 'context' | 'default' | { bypass: string });

const choiceOnly = (what: string) => (v: unknown) => (v === 'none' || v === 'auto' ? 'context' : { bypass: `${what} asks for a tool call` });
const onlyDefault = (dflt: unknown, reason: string) => (v: unknown) => (v === dflt ? 'default' : { bypass: reason });
const never = (reason: string) => () => ({ bypass: reason });

const SHARED: Record<string, Rule> = {
  stream: 'ignore',  // the answer is the same streamed or not; a hit replays either way
  stream_options: 'ignore',  // include_usage: the replay sends the stored usage
  user: 'ignore',
  safety_identifier: 'ignore',
  prompt_cache_key: 'ignore',
  prompt_cache_retention: 'ignore',
  top_p: 'param',
};

/** Every known field of each kind (besides `model`, the lookup field and `temperature`). */
export const FIELD_RULES: Record<RequestKind, Record<string, Rule>> = {
  chat: {
    ...SHARED,
    metadata: 'ignore',
    store: 'ignore',  // whether OpenAI keeps the completion for its dashboards
    service_tier: 'ignore',
    max_tokens: 'param',
    max_completion_tokens: 'param',
    frequency_penalty: 'param',
    presence_penalty: 'param',
    seed: 'param',
    stop: 'param',
    reasoning_effort: 'param',
    verbosity: 'param',
    modalities: (v) => (Array.isArray(v) && v.every((m) => m === 'text') ? 'param' : { bypass: 'audio output is not cached' }),
    response_format: 'context',
    tools: 'context',
    functions: 'context',
    parallel_tool_calls: 'context',
    prediction: 'context',
    logit_bias: 'context',
    tool_choice: choiceOnly('tool_choice'),
    function_call: choiceOnly('function_call'),
    n: onlyDefault(1, 'n != 1: several answers are not cached'),
    logprobs: onlyDefault(false, 'logprobs are not stored'),
    top_logprobs: never('logprobs are not stored'),
    audio: never('audio output is not cached'),
    web_search_options: never('web search answers depend on the day'),
  },
  completions: {
    ...SHARED,
    max_tokens: 'param',
    frequency_penalty: 'param',
    presence_penalty: 'param',
    seed: 'param',
    stop: 'param',
    best_of: 'param',
    echo: 'param',
    suffix: 'context',
    logit_bias: 'context',
    n: onlyDefault(1, 'n != 1: several answers are not cached'),
    logprobs: never('logprobs are not stored'),
  },
  responses: {
    ...SHARED,
    metadata: 'ignore',
    service_tier: 'ignore',
    store: onlyDefault(true, 'store: false asks that the response be kept nowhere'),
    max_output_tokens: 'param',
    truncation: 'param',
    instructions: 'context',
    previous_response_id: 'context',
    conversation: 'context',
    tools: 'context',
    text: 'context',
    reasoning: 'context',
    parallel_tool_calls: 'context',
    max_tool_calls: 'context',
    prompt: 'context',
    tool_choice: choiceOnly('tool_choice'),
    top_logprobs: never('logprobs are not stored'),
    include: (v) => (Array.isArray(v) && v.length === 0 ? 'default' : { bypass: '`include` asks for output that is not stored' }),
    background: onlyDefault(false, 'background responses are not cached'),
  },
};

const LOOKUP_FIELD: Record<RequestKind, string> = { chat: 'messages', completions: 'prompt', responses: 'input' };

/**
 * Temperature buckets: answers at 0 and at 1.2 are different products; answers at 0.7 and 0.8
 * are samples of nearly the same distribution and not worth separate entries.
 */
export function temperatureBucket(t: number | undefined): string {
  if (t === undefined) return 'default';
  if (t <= 0) return '0';
  if (t <= 0.4) return 'low';
  if (t <= 1) return 'mid';
  return 'high';
}

/** The cache key of a request body, or why it bypasses the cache. Never throws on bad input. */
export async function requestKey(kind: RequestKind, body: unknown, options: RequestKeyOptions = {}): Promise<RequestKey> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { bypass: 'the body is not a JSON object' };
  const b = body as Record<string, unknown>;
  const rules = FIELD_RULES[kind];
  const params: Record<string, unknown> = {};
  const context: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(b)) {
    if (value === undefined || value === null || field === 'model' || field === 'temperature' || field === LOOKUP_FIELD[kind]) continue;
    const rule = Object.hasOwn(rules, field) ? rules[field]! : undefined;
    if (rule === undefined) return { bypass: `unknown field \`${field}\`` };
    const use = typeof rule === 'function' ? rule(value) : rule;
    if (typeof use === 'object') return use;
    // a structured "param" (an object, nested arrays) is hashed with the context: scopes stay short
    if (use === 'ignore' || use === 'default') continue;
    if (use === 'param' && isFlat(value)) params[field] = value;
    else context[field] = value;
  }
  const model = b.model ?? '';
  if (typeof model !== 'string') return { bypass: '`model` is not a string' };
  const t = b.temperature ?? undefined;
  if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t))) return { bypass: '`temperature` is not a number' };

  const turn = lastTurn(kind, b[LOOKUP_FIELD[kind]] ?? undefined);
  if ('bypass' in turn) return turn;
  if (!turn.text.trim()) return { bypass: 'empty prompt' };
  Object.assign(context, turn.context);

  const keyParams: Record<string, unknown> = { endpoint: kind, temperature: temperatureBucket(t), ...params };
  if (Object.keys(context).length) {
    let json: string;
    try {
      json = canonicalJson(context);
    } catch (e) {
      return { bypass: `the request cannot be serialized: ${(e as Error).message}` };  // cyclic, or too deep for the stack
    }
    keyParams.context = await sha256Hex(json);
  }
  if (options.credential !== undefined) keyParams.auth = options.credential;
  return { text: turn.text, scope: { model, params: keyParams, tenant: options.tenant ?? 'default' } };
}

const isScalar = (x: unknown) => x === null || typeof x !== 'object';
const isFlat = (v: unknown) => isScalar(v) || (Array.isArray(v) && v.every(isScalar));

type Turn = { text: string; context: Record<string, unknown> } | { bypass: string };

/** The question (the last user turn) and what came before it. */
function lastTurn(kind: RequestKind, v: unknown): Turn {
  if (kind === 'completions') {
    if (typeof v === 'string') return { text: v, context: {} };
    if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return { text: v[0], context: {} };
    if (Array.isArray(v) && v.length > 1 && v.every((p) => typeof p === 'string')) return { bypass: 'a batch of prompts' };
    return { bypass: '`prompt` is not a string' };
  }
  if (kind === 'responses' && typeof v === 'string') return { text: v, context: {} };
  const list = kind === 'chat' ? 'messages' : 'input';
  if (!Array.isArray(v) || v.length === 0) return { bypass: `no \`${list}\`` };
  const last = v[v.length - 1] as Record<string, unknown> | null;
  if (!last || typeof last !== 'object' || last.role !== 'user') return { bypass: `the last of \`${list}\` is not a user turn` };
  const known = kind === 'chat' ? ['role', 'content', 'name'] : ['role', 'content', 'type'];
  const extra = Object.keys(last).find((k) => !known.includes(k) && last[k] !== undefined && last[k] !== null);
  if (extra) return { bypass: `unknown field \`${extra}\` in the last user turn` };
  if (kind === 'responses' && last.type !== undefined && last.type !== null && last.type !== 'message') return { bypass: 'the last input item is not a message' };
  const text = textOfContent(last.content, kind === 'chat' ? 'text' : 'input_text');
  if (text === null) return { bypass: 'the last user turn has content other than text' };
  const context: Record<string, unknown> = {};
  if (v.length > 1) context.history = v.slice(0, -1);
  if (last.name !== undefined && last.name !== null) context.name = last.name;
  return { text, context };
}

/** A string, or text parts joined by newlines; null when any part is not text. */
function textOfContent(content: unknown, partType: string): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content) || content.length === 0) return null;
  const texts: string[] = [];
  for (const p of content) {
    if (!p || typeof p !== 'object' || (p as { type?: unknown }).type !== partType) return null;
    const { type: _, text, ...rest } = p as Record<string, unknown>;
    if (typeof text !== 'string' || Object.values(rest).some((x) => x !== undefined && x !== null)) return null;
    texts.push(text);
  }
  return texts.join('\n');
}
