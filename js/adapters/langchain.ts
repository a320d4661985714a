// semcache/langchain: a LangChain.js cache (`BaseCache` of @langchain/core) that looks prompts up
// by meaning: `new ChatOpenAI({ cache: new SemcacheLangChainCache(cache) })`. LangChain hands a
// cache the conversation as one string ("System: …\nHuman: …") and its "llm string" (the model
// and its call parameters); the conversation is read back into turns so that the one request-key
// function (js/llm/request-key.ts) keys it like any chat request, and the llm string (hashed) is
// the model in the scope. LangChain's `.stream()` never asks a cache (langchainjs #3582):
// `cachedStreaming(model)` makes it.
import { BaseCache } from '@langchain/core/caches';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, AIMessageChunk, getBufferString, type BaseMessage } from '@langchain/core/messages';
import { ChatGenerationChunk, type Generation } from '@langchain/core/outputs';
import { joinedAnswer, joinedPieces } from '../flights.js';
import { sha256Hex } from '../llm/canonical.js';
import { consult, recorderOf, type CallCache, type Recorder, type Verdict } from '../llm/consult.js';
import type { AnswerMeta } from '../llm/answer.js';
import { requestKey } from '../llm/request-key.js';

export interface LangChainCacheOptions {
  /** Tenant in every key: entries of different tenants never meet. Default 'default'. */
  tenant?: string;
  /** Cache failures (the model is called all the same). Default: none. */
  onCacheError?: (error: Error, where: string) => void;
}

/** getBufferString's role names, back to chat roles. */
const ROLES: Record<string, string> = { Human: 'user', AI: 'assistant', System: 'system', Tool: 'tool', Function: 'function' };
const TURN = new RegExp(`^(${Object.keys(ROLES).join('|')}): `);

/** A conversation as getBufferString wrote it, back into turns (a line that starts with a role
 * name starts a turn; other lines continue the one before). */
export function turnsOf(prompt: string): { role: string; content: string }[] {
  const turns: { role: string; content: string }[] = [];
  for (const line of prompt.split('\n')) {
    const m = TURN.exec(line);
    if (m) turns.push({ role: ROLES[m[1]!]!, content: line.slice(m[0].length) });
    else if (turns.length) turns.at(-1)!.content += `\n${line}`;
    else turns.push({ role: 'user', content: line });  // a plain LLM's prompt: one question
  }
  return turns;
}

const generationOf = (answer: string, meta: AnswerMeta): Generation[] => [
  { text: answer, message: new AIMessage({ content: answer, response_metadata: { finish_reason: meta.finish ?? 'stop' } }), generationInfo: { finish_reason: meta.finish ?? 'stop' } } as Generation,
];

/** The cache. Its lookups share one model call among similar misses in flight (see
 * cache.begin): a lookup that misses is in flight until LangChain calls `update` with the
 * answer; if the model call fails LangChain says nothing, and the calls that joined it wait out
 * the cache's joinWaitMs before calling the model themselves. */
export class SemcacheLangChainCache extends BaseCache<Generation[]> {
  private readonly pending = new Map<string, Recorder>();

  constructor(
    private readonly cache: CallCache,
    private readonly options: LangChainCacheOptions = {},
  ) {
    super();
  }

  /** What the cache says about a conversation under an llm string (see consult). */
  async consult(prompt: string, llmKey: string): Promise<Verdict> {
    const body = { model: `langchain:${await sha256Hex(llmKey)}`, messages: turnsOf(prompt) };
    const key = await requestKey('chat', body, { tenant: this.options.tenant });
    return consult(this.cache, key, { report: (e, where) => this.report(e, where) });
  }

  async lookup(prompt: string, llmKey: string): Promise<Generation[] | null> {
    const v = await this.consult(prompt, llmKey);
    if ('hit' in v) return generationOf(v.hit.answer, v.hit.meta);
    if ('join' in v) {
      const end = await joinedAnswer(v.join);
      if (!('failed' in end)) return generationOf(end.answer, (end.metadata ?? {}) as AnswerMeta);
    }
    const record = recorderOf(v);
    if (record) {
      const k = `${llmKey}\u0000${prompt}`;
      this.pending.get(k)?.fail('superseded');
      this.pending.set(k, record);
    }
    return null;
  }

  async update(prompt: string, llmKey: string, value: Generation[]): Promise<void> {
    const k = `${llmKey}\u0000${prompt}`;
    let record = this.pending.get(k);
    this.pending.delete(k);
    if (!record) {
      // not looked up here first (a stream recorded elsewhere, a warm-up): store it all the same
      const v = await this.consult(prompt, llmKey);
      record = 'hit' in v ? undefined : recorderOf(v);
    }
    if (!record) return;
    const g = value.length === 1 ? value[0]! : undefined;
    const message = (g as { message?: { tool_calls?: unknown[]; response_metadata?: { finish_reason?: unknown } } } | undefined)?.message;
    const finish = message?.response_metadata?.finish_reason ?? g?.generationInfo?.finish_reason ?? 'stop';
    if (!g || !g.text.trim() || message?.tool_calls?.length || (finish !== 'stop' && finish !== 'length')) {
      record.fail('the answer is not cached');
      return;
    }
    await record.done(g.text, { finish });
  }

  private report(e: unknown, where: string) {
    try {
      this.options.onCacheError?.(e instanceof Error ? e : new Error(String(e)), where);
    } catch {
      // a throwing reporter must not break the call
    }
  }
}

type StreamFn = BaseChatModel['_streamResponseChunks'];

/**
 * Makes `model.stream()` go through the model's SemcacheLangChainCache (LangChain streams around
 * its cache): a hit streams the stored answer chunk for chunk as the model streamed it, a miss
 * streams through while it is recorded and is stored once it completed (then `.invoke()` of a
 * paraphrase hits it too, and the other way round). Returns the model.
 */
export function cachedStreaming<M extends BaseChatModel>(model: M): M {
  const inner: StreamFn = model._streamResponseChunks.bind(model);
  const chunk = (text: string) => new ChatGenerationChunk({ text, message: new AIMessageChunk({ content: text }) });
  model._streamResponseChunks = async function* (messages: BaseMessage[], options, runManager) {
    const cache = model.cache;
    if (!(cache instanceof SemcacheLangChainCache)) return yield* inner(messages, options, runManager);
    const v = await cache.consult(getBufferString(messages), model._getSerializedCacheKeyParametersForCall(options));
    if ('hit' in v) {
      for (const c of v.hit.meta.chunks ?? [v.hit.answer]) yield chunk(c);
      return;
    }
    if ('join' in v) {
      const first = await v.join.next(0);
      if (!(first.end && 'failed' in first.end)) {
        for await (const piece of joinedPieces(v.join, first)) yield chunk(piece);
        return;
      }
    }
    const record = recorderOf(v);
    const chunks: string[] = [];
    let cacheable = true;
    let finish: unknown;
    let settled = false;
    try {
      for await (const c of inner(messages, options, runManager)) {
        const m = c.message as AIMessageChunk;
        if (m.tool_call_chunks?.length) cacheable = false;
        finish = (c.generationInfo?.finish_reason as unknown) ?? m.response_metadata?.finish_reason ?? finish;
        if (c.text) {
          chunks.push(c.text);
          record?.piece(c.text);
        }
        yield c;
      }
      const answer = chunks.join('');
      if (cacheable && answer.trim() && (finish === undefined || finish === 'stop' || finish === 'length')) {
        settled = true;
        await record?.done(answer, { chunks, finish: finish === 'length' ? 'length' : 'stop' });
      }
    } finally {
      // an error, a consumer that stopped reading, or an answer not worth keeping
      if (!settled) record?.fail('the stream ended without a cacheable answer');
    }
  } as StreamFn;
  return model;
}
