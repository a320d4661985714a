// semcache/ai-sdk: a language-model middleware for the Vercel AI SDK (`wrapLanguageModel`, the
// v4 middleware interface of ai@7) that serves generateText and streamText from a semantic
// cache. The call's options become an OpenAI-style chat body so that the one request-key
// function (js/llm/request-key.ts) decides the lookup text, the scope and what bypasses; a hit
// returns the stored text (streamed: the original stream's text deltas, one part each); a miss
// streams through while it is recorded; similar misses in flight share one model call.
// Only types come from `ai`: nothing of it is loaded at run time.
import type { LanguageModelMiddleware } from 'ai';
import { followJoined, joinedAnswer, type Joined } from '../flights.js';
import { callLLM, consult, hitHeaders, recorderOf, type CallCache, type Recorder } from '../llm/consult.js';
import type { AnswerMeta, Usage } from '../llm/answer.js';
import { requestKey } from '../llm/request-key.js';
import { tapStream } from '../llm/sse.js';

type Wrap<K extends 'wrapGenerate' | 'wrapStream'> = Parameters<NonNullable<LanguageModelMiddleware[K]>>[0];
type CallOptions = Wrap<'wrapGenerate'>['params'];
type GenerateResult = Awaited<ReturnType<Wrap<'wrapGenerate'>['doGenerate']>>;
type StreamResult = Awaited<ReturnType<Wrap<'wrapStream'>['doStream']>>;
type StreamPart = StreamResult['stream'] extends ReadableStream<infer P> ? P : never;

export interface AiSdkCacheOptions {
  /** Tenant in every key: entries of different tenants never meet. Default 'default'. */
  tenant?: string;
  /** Cache failures (the model is called all the same). Default: none. */
  onCacheError?: (error: Error, where: string) => void;
}

/** The call's options as the chat-completions body they amount to (the key's input). */
function chatBody(params: CallOptions, model: { provider: string; modelId: string }): Record<string, unknown> {
  const messages = params.prompt.map((m) => {
    if (m.role === 'system') return { role: 'system', content: m.content };
    // text parts become chat text parts; anything else stays as it is (hashed in the history,
    // or, in the question, a reason to bypass)
    const content = m.content.map((p) => (p.type === 'text' && !p.providerOptions ? { type: 'text', text: p.text } : p));
    return { role: m.role, content };
  });
  const tc = params.toolChoice;
  return {
    model: `${model.provider}:${model.modelId}`,
    messages,
    temperature: params.temperature,
    top_p: params.topP,
    top_k: params.topK,  // no chat-completions field: a call that sets it bypasses
    max_tokens: params.maxOutputTokens,
    stop: params.stopSequences,
    seed: params.seed,
    presence_penalty: params.presencePenalty,
    frequency_penalty: params.frequencyPenalty,
    response_format: params.responseFormat?.type === 'json' ? params.responseFormat : undefined,
    reasoning_effort: params.reasoning === 'provider-default' ? undefined : params.reasoning,
    tools: params.tools?.length ? params.tools : undefined,
    tool_choice: tc === undefined ? undefined : tc.type === 'auto' || tc.type === 'none' ? tc.type : tc,
    provider_options: params.providerOptions && Object.keys(params.providerOptions).length ? params.providerOptions : undefined,
  };
}

const usageOf = (u: GenerateResult['usage']): Usage => {
  const p = u.inputTokens.total ?? 0, c = u.outputTokens.total ?? 0;
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
};
const sdkUsage = (u: Usage | undefined): GenerateResult['usage'] => ({
  inputTokens: { total: u?.prompt_tokens ?? 0, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: u?.completion_tokens ?? 0, text: undefined, reasoning: undefined },
});
const finishOf = (f: GenerateResult['finishReason']): AnswerMeta['finish'] | undefined => (f.unified === 'stop' || f.unified === 'length' ? f.unified : undefined);
const sdkFinish = (meta: AnswerMeta): GenerateResult['finishReason'] => ({ unified: meta.finish ?? 'stop', raw: meta.finish ?? 'stop' });

let counter = 0;
const responseMeta = (modelId: string) => ({ id: `semcache-${Date.now().toString(36)}${(counter++).toString(36)}`, timestamp: new Date(), modelId });

/** A stream of parts replaying an answer, or following a call in flight as it produces one. */
function partsStream(modelId: string, source: (emit: (text: string) => void) => Promise<AnswerMeta>): ReadableStream<StreamPart> {
  return new ReadableStream<StreamPart>({
    async start(controller) {
      controller.enqueue({ type: 'stream-start', warnings: [] });
      controller.enqueue({ type: 'response-metadata', ...responseMeta(modelId) });
      controller.enqueue({ type: 'text-start', id: '0' });
      try {
        const meta = await source((delta) => controller.enqueue({ type: 'text-delta', id: '0', delta }));
        controller.enqueue({ type: 'text-end', id: '0' });
        controller.enqueue({ type: 'finish', finishReason: sdkFinish(meta), usage: sdkUsage(meta.usage) });
        controller.close();
      } catch (e) {
        controller.error(e);
      }
    },
  });
}

const generated = (modelId: string, answer: string, meta: AnswerMeta, headers: Record<string, string>): GenerateResult => ({
  content: [{ type: 'text', text: answer }],
  finishReason: sdkFinish(meta),
  usage: sdkUsage(meta.usage),
  warnings: [],
  response: { ...responseMeta(modelId), headers },
});

/** The text of a generation when it is a plain text answer that ended well; else undefined. */
function textOf(r: GenerateResult): string | undefined {
  if (!finishOf(r.finishReason) || r.content.some((p) => p.type !== 'text' && p.type !== 'reasoning')) return undefined;
  return r.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/** The language-model middleware: `wrapLanguageModel({ model, middleware: semanticCacheMiddleware(cache) })`. */
export function semanticCacheMiddleware(cache: CallCache, options: AiSdkCacheOptions = {}) {
  const report = (e: unknown, where: string) => {
    try {
      options.onCacheError?.(e instanceof Error ? e : new Error(String(e)), where);
    } catch {
      // a throwing reporter must not break the call
    }
  };
  const ask = async (params: CallOptions, model: { provider: string; modelId: string }) => consult(cache, await requestKey('chat', chatBody(params, model), { tenant: options.tenant }), { report });
  const joinedHeaders = (j: Joined) => hitHeaders(j.similarity, { joined: true });

  const middleware = {
    specificationVersion: 'v4' as const,

    async wrapGenerate({ doGenerate, params, model }: Wrap<'wrapGenerate'>): Promise<GenerateResult> {
      const v = await ask(params, model);
      if ('hit' in v) return generated(model.modelId, v.hit.answer, v.hit.meta, hitHeaders(v.hit.similarity, v.hit));
      if ('join' in v) {
        const end = await joinedAnswer(v.join);
        if (!('failed' in end)) return generated(model.modelId, end.answer, (end.metadata ?? {}) as AnswerMeta, joinedHeaders(v.join));
      }
      const record = recorderOf(v);
      const r = await callLLM(record, doGenerate);
      const text = textOf(r);
      if (text?.trim()) await record?.done(text, { finish: finishOf(r.finishReason), usage: usageOf(r.usage) });
      else record?.fail('the answer is not cached');
      return r;
    },

    async wrapStream({ doStream, params, model }: Wrap<'wrapStream'>): Promise<StreamResult> {
      const v = await ask(params, model);
      if ('hit' in v) {
        const { answer, meta } = v.hit;
        const stream = partsStream(model.modelId, async (emit) => {
          for (const c of meta.chunks ?? [answer]) emit(c);
          return meta;
        });
        return { stream, response: { headers: hitHeaders(v.hit.similarity, v.hit) } };
      }
      if ('join' in v) {
        const first = await v.join.next(0);
        if (!(first.end && 'failed' in first.end)) {
          const stream = partsStream(model.modelId, async (emit) => ((await followJoined(v.join, first, emit)) ?? {}) as AnswerMeta);
          return { stream, response: { headers: joinedHeaders(v.join) } };
        }
      }
      const record = recorderOf(v);
      const r = await callLLM(record, doStream);
      return record ? { ...r, stream: recorded(r.stream, record) } : r;
    },
  };
  return middleware satisfies LanguageModelMiddleware;
}

/** The model's stream, passed through while its text deltas are recorded; stored once it
 * finished with a plain text answer (no tool call, file, source or error on the way). */
function recorded(stream: ReadableStream<StreamPart>, record: Recorder): ReadableStream<StreamPart> {
  const chunks: string[] = [];
  let finish: AnswerMeta['finish'];
  let usage: Usage | undefined;
  let cacheable = true;
  return tapStream(stream, {
    chunk(part) {
      if (part.type === 'text-delta') {
        chunks.push(part.delta);
        record.piece(part.delta);
      } else if (part.type === 'finish') {
        finish = finishOf(part.finishReason);
        usage = usageOf(part.usage);
      } else if (!['stream-start', 'response-metadata', 'text-start', 'text-end', 'reasoning-start', 'reasoning-delta', 'reasoning-end', 'ping', 'raw'].includes(part.type)) {
        cacheable = false;
      }
    },
    end() {
      // complete when the finish part came (a reader may stop right after it)
      const answer = chunks.join('');
      if (cacheable && finish && answer.trim()) void record.done(answer, { chunks, finish, usage });
      else record.fail('the stream ended without a cacheable answer');
    },
  });
}
