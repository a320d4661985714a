import { SemcacheError } from './errors.js';

export const DEFAULT_MAX_PROMPT_CHARS = 32_768;
export const DEFAULT_MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** Metadata as a store keeps it (a JSON round trip: dates become strings); undefined stays. */
export function checkMetadata(metadata: unknown): unknown {
  if (metadata === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(metadata));
  } catch (e) {
    throw new SemcacheError('INVALID_ARGUMENT', `metadata is not JSON-serializable: ${(e as Error).message}`);
  }
}

/** Index of the first lone surrogate, or -1 when the string is well-formed UTF-16. */
export function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

export function checkPrompt(prompt: unknown, maxChars: number): string {
  if (typeof prompt !== 'string') throw new SemcacheError('INVALID_PROMPT', `prompt must be a string, got ${describe(prompt)}`);
  if (prompt.trim().length === 0) throw new SemcacheError('INVALID_PROMPT', 'prompt is empty (or only whitespace)');
  if (prompt.length > maxChars) {
    throw new SemcacheError('INVALID_PROMPT', `prompt has ${prompt.length} characters, more than maxPromptChars (${maxChars})`);
  }
  const bad = (prompt as string & { isWellFormed?: () => boolean }).isWellFormed?.() === true ? -1 : loneSurrogateAt(prompt);
  if (bad >= 0) throw new SemcacheError('INVALID_PROMPT', `prompt has a lone UTF-16 surrogate at index ${bad}`);
  return prompt;
}

export function checkAnswer(answer: unknown, maxBytes: number): number {
  if (typeof answer !== 'string') throw new SemcacheError('INVALID_ANSWER', `answer must be a string, got ${describe(answer)}`);
  const bad = loneSurrogateAt(answer);
  if (bad >= 0) throw new SemcacheError('INVALID_ANSWER', `answer has a lone UTF-16 surrogate at index ${bad}`);
  const bytes = utf8Length(answer);
  if (bytes > maxBytes) throw new SemcacheError('INVALID_ANSWER', `answer is ${bytes} bytes, more than maxAnswerBytes (${maxBytes})`);
  return bytes;
}

/** UTF-8 length of a well-formed string without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Copies an embedder's output into a Float32Array, checking length and finiteness. */
export function checkVector(v: unknown, dims: number, what: string): Float32Array {
  let out: Float32Array;
  if (v instanceof Float32Array) out = v;
  else if (Array.isArray(v) || ArrayBuffer.isView(v)) out = Float32Array.from(v as ArrayLike<number>);
  else throw new SemcacheError('EMBEDDER_FAILED', `${what} is not an array of numbers (got ${describe(v)})`);
  if (out.length !== dims) {
    throw new SemcacheError('DIMENSION_MISMATCH', `${what} has ${out.length} dimensions, the cache expects ${dims}`);
  }
  let sq = 0;
  for (let i = 0; i < out.length; i++) {
    const x = out[i]!;
    if (!Number.isFinite(x)) throw new SemcacheError('NOT_FINITE', `${what} has a NaN or infinite value at index ${i}`);
    sq += x * x;
  }
  if (sq === 0) throw new SemcacheError('INVALID_ARGUMENT', `${what} is the zero vector: it has no direction to compare`);
  return out;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
