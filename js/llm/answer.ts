// What is stored with a cached LLM answer besides its text, the same for every API kind and
// adapter: the stream's pieces (for chunk-for-chunk replay), why it ended, the tokens it used.

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** What is stored with an answer besides its text: the stream's pieces, why it ended, its usage. */
export interface AnswerMeta {
  chunks?: string[];
  finish?: 'stop' | 'length';
  usage?: Usage;
}

const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0);
/** The three token counts of an OpenAI usage object, or undefined when it has none. */
export function usageOf(u: unknown): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const o = u as Record<string, unknown>;
  return { prompt_tokens: count(o.prompt_tokens), completion_tokens: count(o.completion_tokens), total_tokens: count(o.total_tokens) };
}

/** Stored metadata read back, trusting nothing about its shape. */
export function answerMetaOf(m: unknown): AnswerMeta {
  const o = (m && typeof m === 'object' ? m : {}) as Record<string, unknown>;
  const chunks = Array.isArray(o.chunks) && o.chunks.every((c) => typeof c === 'string') ? (o.chunks as string[]) : undefined;
  const finish = o.finish === 'length' ? 'length' : o.finish === 'stop' ? 'stop' : undefined;
  return { chunks, finish, usage: usageOf(o.usage) };
}
