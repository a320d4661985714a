// A prompt's normalized form (the core's normalizePrompt, src/text/normalize.h) computed in JS
// when the prompt is ASCII. One page hit normalizes its prompt up to four times (the page's
// exact memo, its copy's exact keys, the embedding, the tokenizer), and after an idle moment a
// call into the core's wasm costs 0.05-0.25 ms, however little it does, of a hit whose budget is a
// few ms (docs/benchmarks.md). ASCII is NFKC-invariant and lower-cases A-Z only, so what is left of the
// core's steps is a few loops; anything else (including lone surrogates) goes to the core, whose
// Unicode tables are the reference. tests/js/normalize.test.ts holds the two to the same output.
import type { SemcacheCoreModule } from './wasm/semcache_core.mjs';

const NON_ASCII = /[^\x00-\x7f]/;

// JS \s within ASCII: tab, line feed, vertical tab, form feed, carriage return, space
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
// . ? ! , ; : (the sentence marks dropped at either end)
const isMark = (c: number) => c === 46 || c === 63 || c === 33 || c === 44 || c === 59 || c === 58;

/** Every run of whitespace one space, none at either end (the core's collapseSpaces): JS \s is
 * these six characters within ASCII, and trim() strips only them from an ASCII string. */
const collapse = (s: string) => s.replace(/[\t-\r ]+/g, ' ').trim();

/** normalizePrompt for an ASCII string. */
export function asciiPromptForm(prompt: string): string {
  const lower = prompt.toLowerCase();
  const kept = lower.indexOf('"') < 0 ? lower : lower.replaceAll('"', '');
  let b = 0;
  let e = kept.length;
  while (b < e && (isSpace(kept.charCodeAt(b)) || isMark(kept.charCodeAt(b)))) b++;
  while (e > b && (isSpace(kept.charCodeAt(e - 1)) || isMark(kept.charCodeAt(e - 1)))) e--;
  const out = collapse(kept.slice(b, e));
  // only marks and quotes: kept rather than an empty text, as the core does
  return out || collapse(lower);
}

/** The core's normalizePrompt, with ASCII prompts normalized here; the last prompt's form is
 * kept (a lookup asks for it several times: exact memo, page copy, embedding). */
export function promptNormalizer(m: Pick<SemcacheCoreModule, 'normalizePrompt'>): (prompt: string) => string {
  let lastIn: string | undefined;
  let lastOut = '';
  return (prompt) => {
    if (prompt !== lastIn) (lastOut = NON_ASCII.test(prompt) ? m.normalizePrompt(prompt) : asciiPromptForm(prompt)), (lastIn = prompt);
    return lastOut;
  };
}
