// The bundled GPT-2 as an OpenAI-compatible upstream, in-process: the same request semantics
// as a remote LLM (chat completions, completions and responses; JSON or SSE; max_tokens /
// max_completion_tokens / max_output_tokens, temperature, top_p, seed, stop,
// stream_options.include_usage), so the caching
// handler cannot tell them apart. Generations run one at a time (one model, one KV cache).
import type { Gpt2 } from '../gpt2.js';
import { firstStop } from '../gpt2/engine.js';
import { textOf, type ChatMessage, type ChatRequest } from '../llm/openai-chat.js';
import type { RequestKind } from '../llm/request-key.js';
import { WIRES } from '../llm/wire.js';
import type { Upstream } from './upstream.js';

export interface Gpt2UpstreamOptions {
  /** Model name reported in responses. */
  name?: string;
  /** max_tokens when the request gives none. Default 48. */
  defaultMaxTokens?: number;
  /** Largest max_tokens accepted. Default 256. */
  maxTokensLimit?: number;
  /** KV cache on (default) or off: the demo's toggle. */
  kvCache?: () => boolean;
  /** Called after each generation with its speed. */
  onStats?: (stats: NonNullable<Gpt2['lastStats']>) => void;
}

/** Chat turns as the plain text a base LM continues: "Q: …\nA: …". */
export function chatPrompt(messages: NonNullable<ChatRequest['messages']>): string {
  const lines: string[] = [];
  for (const m of messages) {
    const t = textOf(m.content).trim();
    if (!t) continue;
    if (m.role === 'system' || m.role === 'developer') lines.push(t, '');
    else lines.push(`${m.role === 'assistant' ? 'A' : 'Q'}: ${t}`);
  }
  lines.push('A:');
  return lines.join('\n');
}

export function gpt2Upstream(model: Gpt2, options: Gpt2UpstreamOptions = {}): Upstream {
  const name = options.name ?? 'gpt2';
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(f: () => Promise<T>) => {
    const p = queue.then(f, f);
    queue = p.catch(() => {});
    return p;
  };

  return {
    name: `in-process ${name}`,
    async fetch(path, init) {
      const endpoint: RequestKind = path === '/v1/chat/completions' ? 'chat' : path === '/v1/responses' ? 'responses' : 'completions';
      const body = JSON.parse(init.body) as ChatRequest;
      // max_completion_tokens (chat) and max_output_tokens (responses) are newer names of max_tokens
      const asked = body.max_completion_tokens ?? body.max_output_tokens ?? body.max_tokens;
      if (asked !== undefined && asked !== null && (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 1)) {
        return errorResponse(400, '`max_tokens` / `max_completion_tokens` / `max_output_tokens` must be an integer >= 1');
      }
      const maxTokens = Math.min((asked as number | null | undefined) ?? options.defaultMaxTokens ?? 48, options.maxTokensLimit ?? 256);
      if ((body.n ?? 1) !== 1) return errorResponse(400, 'this model answers one choice per request (`n` must be 1)');
      if (Array.isArray(body.prompt) && body.prompt.length !== 1) return errorResponse(400, 'this model answers one prompt per request: send `prompt` as a string');
      const prompt =
        endpoint === 'chat' ? chatPrompt(body.messages ?? [])
        : endpoint === 'responses' ? chatPrompt(responsesMessages(body))
        : String(Array.isArray(body.prompt) ? body.prompt[0] : body.prompt ?? '');
      const stops = stopList(body.stop, endpoint);
      const wire = WIRES[endpoint];
      const usage = (s: NonNullable<Gpt2['lastStats']>) => ({ prompt_tokens: s.promptTokens, completion_tokens: s.generatedTokens, total_tokens: s.promptTokens + s.generatedTokens });
      const finish = (s: NonNullable<Gpt2['lastStats']>) => (s.stopReason === 'maxTokens' ? 'length' as const : 'stop' as const);
      const gen = {
        maxTokens,
        temperature: body.temperature ?? 0.8,
        topP: body.top_p ?? 1,
        topK: 40,
        seed: body.seed,
        kvCache: options.kvCache?.() ?? true,
        overflow: 'slide' as const,
        stopAtEndOfText: true,
        stop: stops,  // the model ends there itself, so lastStats describes this generation
        signal: init.signal,
      };
      const modelName = body.model ?? name;
      if (!body.stream) {
        return serialize(async () => {
          let text = '';
          for await (const t of model.generate(prompt, gen)) text += t.text;
          const stats = model.lastStats!;  // the generation ran to its end (a stop sequence ends it too)
          options.onStats?.(stats);
          return Response.json(wire.json(modelName, text.trim(), { finish: finish(stats), usage: usage(stats) }));
        });
      }
      // Streamed: hold back any tail that could still become a stop sequence.
      const stream = new ReadableStream<Uint8Array>({
        start: (controller) =>
          void serialize(async () => {
            const writer = wire.writer(modelName, body);
            const send = (events: Uint8Array[]) => events.forEach((e) => controller.enqueue(e));
            let text = '';
            let sent = 0;
            let first = true;
            try {
              for await (const t of model.generate(prompt, gen)) {
                text += t.text;
                // hold back a tail that could still become a stop sequence (the model ends at a
                // complete one and never emits it)
                const safe = text.length - heldBack(text, stops);
                let out = text.slice(sent, safe);
                if (first) out = out.replace(/^\s+/, '');
                if (out) {
                  send(writer.piece(out));
                  first = false;
                }
                sent = safe;
              }
              const stats = model.lastStats!;
              options.onStats?.(stats);
              send(writer.end({ finish: finish(stats), usage: usage(stats) }));
              controller.close();
            } catch (e) {
              controller.error(e);
            }
          }),
      });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
    },
  };
}

function stopList(stop: unknown, endpoint: RequestKind): string[] {
  if (typeof stop === 'string') return stop ? [stop] : [];
  if (Array.isArray(stop)) return stop.filter((s): s is string => typeof s === 'string' && s.length > 0);
  return endpoint === 'completions' ? [] : ['\nQ:', '\n\n'];
}

/** A Responses request's instructions and input as chat turns (input_text parts are text). */
function responsesMessages(body: ChatRequest): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (typeof body.instructions === 'string') out.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') return [...out, { role: 'user', content: body.input }];
  for (const item of Array.isArray(body.input) ? (body.input as { role?: unknown; content?: unknown }[]) : []) {
    if (typeof item?.role !== 'string') continue;
    const c = item.content;
    const content = Array.isArray(c) ? c.map((p: { text?: unknown }) => ({ type: 'text', text: typeof p?.text === 'string' ? p.text : '' })) : typeof c === 'string' ? c : '';
    out.push({ role: item.role, content });
  }
  return out;
}

/** Length of the longest suffix of text that is a proper prefix of a stop sequence. */
function heldBack(text: string, stops: string[]): number {
  let n = 0;
  for (const s of stops) for (let k = Math.min(s.length - 1, text.length); k > n; k--) if (s.startsWith(text.slice(-k))) n = k;
  return n;
}

function errorResponse(status: number, message: string): Response {
  return Response.json({ error: { message, type: 'invalid_request_error' } }, { status });
}
