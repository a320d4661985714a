// Prompt normalization (src/text/normalize.h): the binding against JS's own NFKC + toLowerCase +
// whitespace collapsing, and the cache embedding the normalized form on put and get while the
// cached prompt keeps its text.
import { describe, expect, it } from 'vitest';
import { SemanticCache } from 'semcache';
import { asciiPromptForm, promptNormalizer } from '../../dist/prompt-form.js';
import { loadModule, normalize, rng } from './helpers.js';

const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();
const reference = (s: string) => {
  const base = s.normalize('NFKC').toLowerCase();
  return collapse(base.replace(/["“”„«»]/g, '').replace(/^[\s¿¡.?!,;:]+|[\s.?!,;:]+$/g, '')) || collapse(base);
};

describe('normalizePrompt', () => {
  it("matches JS's NFKC, toLowerCase and \\s collapsing on random strings", async () => {
    const M = await loadModule();
    const pool = [...'aAbBzZ éÉßİıΣσςÅ ﬁ½²ｆＡ\t\n\u00a0\u2007\u3000\u0301\u0308가각?!.,;:"“”«»¿¡\'#+？', 'Ǆ', 'ǅ', '🍕', '⁉', 'Ⅻ', 'ＨＥＬＬＯ', '  '];
    const r = rng(7);
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const n = Math.floor(r.next() * 12);
      for (let k = 0; k < n; k++) s += pool[Math.floor(r.next() * pool.length)];
      expect(M.normalizePrompt(s), JSON.stringify(s)).toBe(reference(s));
    }
    expect(M.normalizePrompt('  HOW do   I\tLearn Python?\n')).toBe('how do i learn python');
    expect(M.normalizePrompt('Is C++ better than C#?')).toBe('is c++ better than c#');
  });

  it("JS's form of ASCII prompts (js/prompt-form.ts) is the core's, character for character", async () => {
    const M = await loadModule();
    // every ASCII character, with the ones the steps act on (space, quotes, marks, A-Z) weighted up
    const all = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
    const pool = [...all, ...' \t\n\v\f\r"".?!,;:AZaz'.repeat(4), '  ', 'How ', 'C++', '?!'];
    const r = rng(11);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      const n = Math.floor(r.next() * 16);
      for (let k = 0; k < n; k++) s += pool[Math.floor(r.next() * pool.length)];
      expect(asciiPromptForm(s), JSON.stringify(s)).toBe(M.normalizePrompt(s));
    }
    for (const s of ['', ' ', '"?"', ' ?! ', '..."', '\x00', 'A\x00B', '"How do I learn Python?"  ', '\v\fWhy?\r\n']) expect(asciiPromptForm(s), JSON.stringify(s)).toBe(M.normalizePrompt(s));
    // anything else is the core's own call (the last one kept)
    let calls = 0;
    const form = promptNormalizer({ normalizePrompt: (t: string) => (calls++, M.normalizePrompt(t)) });
    expect(form('  HOW do   I\tLearn Python?\n')).toBe('how do i learn python');
    expect(calls).toBe(0);
    for (const t of ['Ｈow do I learn Python quickly?!', 'Ｈow do I learn Python quickly?!', 'Ǆemal\uD800?']) expect(form(t)).toBe(M.normalizePrompt(t));
    expect(calls).toBe(2);
  });
});

// A case- and spacing-sensitive embedder: character bigrams as they are.
const bigrams = (t: string) => {
  const v = new Float32Array(64);
  for (let i = 0; i + 1 < t.length; i++) v[(t.charCodeAt(i) * 31 + t.charCodeAt(i + 1)) % 64]! += 1;
  v[0]! += 1e-3;
  return normalize(v);
};
const embedder = { id: 'bigrams', dimensions: 64, embed: async (texts: string[]) => texts.map(bigrams) };

describe('the cache embeds the normalized prompt', () => {
  it('a rewording in case, Unicode form or spacing is the same text; the entry keeps its own', async () => {
    const cache = await SemanticCache.open({ embedder, threshold: 0.999 });
    await cache.put('How do I learn Python quickly?', 'answer');
    for (const q of ['HOW DO I LEARN PYTHON QUICKLY?', '  how do i   learn python\tquickly ', 'Ｈow do I learn Python quickly?!', '"How do I learn Python quickly?"']) {
      const r = await cache.get(q);
      expect(r.hit, q).toBe(true);
      if (r.hit) {
        expect(r.similarity).toBeGreaterThan(0.9999);
        expect(r.matchedPrompt).toBe('How do I learn Python quickly?');
      }
    }
    expect((await cache.get('How do I learn Java quickly?')).hit).toBe(false);
    await cache.close();
  });

  it('normalize: false embeds the text as given', async () => {
    const seen: string[] = [];
    const spy = { ...embedder, embed: async (texts: string[]) => (seen.push(...texts), texts.map(bigrams)) };
    const cache = await SemanticCache.open({ embedder: spy, threshold: 0.999, normalize: false });
    await cache.put('How do I learn Python quickly?', 'answer');
    expect((await cache.get('HOW DO I LEARN PYTHON QUICKLY?')).hit).toBe(false);
    expect(seen).toEqual(['How do I learn Python quickly?', 'HOW DO I LEARN PYTHON QUICKLY?']);
    await cache.close();
  });
});
