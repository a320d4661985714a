// Deterministic corpus of varied strings for tokenizer parity tests: English questions from QQP
// mixed with Chinese, Japanese, Korean, emoji (ZWJ, skin tones, flags), accents (precomposed and
// combining, in both mark orders), scripts, odd whitespace, control and format characters,
// numbers, punctuation runs, URLs, BERT special tokens and inputs longer than 512 tokens.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { rng } from './toy-vector.mjs';

export const QQP_PATH = new URL('../../../shared/data/qqp/pairs-dev.jsonl.gz', import.meta.url);

export function loadQuestions(limit = 4000) {
  const lines = zlib.gunzipSync(fs.readFileSync(QQP_PATH)).toString('utf8').split('\n');
  const out = [];
  for (const line of lines) {
    if (!line) continue;
    const row = JSON.parse(line);
    out.push(row.a, row.b);
    if (out.length >= limit) break;
  }
  return out;
}

const FIXED = [
  // Chinese, Japanese, Korean
  '我们今天去北京吃饭。', '这个问题的答案是什么？', '机器学习和深度学习有什么区别', '繁體中文測試，標點符號！',
  '日本語のテキストです。', 'カタカナとひらがな', 'ｶﾀｶﾅ半角', '東京都渋谷区', 'ＡＢＣ１２３全角',
  '한국어 문장입니다', '\u1100\u1161\u11A8 conjoining jamo', '\u{20000}\u{2A6D6}\u{2F800} extension',
  // emoji
  '😀', '👍🏽👍🏿', '👨‍👩‍👧‍👦 family', '🇫🇷🇯🇵 flags', '1️⃣ keycap', '❤️ red heart', '🧑🏻‍💻 coder', '🏳️‍🌈',
  // accents, precomposed and combining, ordering
  'café naïve résumé', 'cafe\u0301 nai\u0308ve', 'Ångström \u212Bngstr\u00F6m \u2126', 'a\u0301\u0323 a\u0323\u0301',
  'Tiếng Việt có dấu', 'ΟΔΥΣΣΕΥΣ καὶ ΣΟΦΙΑ', 'ΣΑΣ Σ. σ aΣ\u02B0', 'İstanbul ıi', 'Straße GROSS ß',
  'ﬁnancial ﬂow', 'Ⅻ ² ½ ㎏ ℃', 'Ǆemal ǅ', 'ｈｅｌｌｏ　ｗｏｒｌｄ', 'x\u0345\u0301\u0334y', 'e\u0304\u0301\u0327',
  // other scripts
  'مرحبا بالعالم', 'שָׁלוֹם עוֹלָם', 'नमस्ते दुनिया', 'สวัสดีชาวโลก', 'Привет, мир!', 'Γειά σου Κόσμε',
  // whitespace and controls
  'tab\tseparated\tvalues', 'line\nbreaks\r\nand\rreturns', 'nbsp\u00A0here', 'ideographic\u3000space',
  'line\u2028sep\u2029para', 'zero\u200Bwidth\u200Cjoiner\u200D', 'nul\u0000char', 'bell\u0007 del\u007F',
  'next\u0085line', 'lrm\u200Emark', 'bom\uFEFFinside', 'private\uE000use', 'replace\uFFFDchar',
  'tag\u{E0001}\u{E0041}', 'soft\u00ADhyphen', '   leading and trailing   ', '\t\n ', ' ', '',
  // numbers, punctuation, URLs, specials
  '1234567890', '3.14159 2,718.28 1e-10 -42 +7', '!!!???...', '¿Qué? ¡Sí!', '—–‐ «» „“ ‹›', '…、。【】「」',
  '$%^&*()_+-=[]{}|;:\'",.<>/?`~', '@user #hashtag', 'https://example.com/path?q=1&x=y#frag',
  'mailto:someone@example.org', 'http://日本.jp/パス', '[CLS] [SEP] [MASK] [UNK] [PAD]', 'a[SEP]b[MASK]c',
  '[mask] [Sep] [SEP', '[[SEP]]', 'C++ & C# vs. F#', 'don\'t won\'t I\'m', 'e-mail co-operate',
];

function randomCodepointString(rand, lo, hi, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(lo + Math.floor(rand() * (hi - lo)));
  return s;
}

export function makeCorpus(count, seed, questions) {
  const rand = rng(seed).next;
  const pick = (arr) => arr[Math.floor(rand() * arr.length)];
  const seps = [' ', ' ', ' ', '', '\n', '\t', '  ', ', ', ' - '];
  const gens = [
    () => pick(questions),
    () => pick(questions),
    () => pick(questions),
    () => pick(FIXED),
    () => pick(FIXED),
    () => randomCodepointString(rand, 0x4e00, 0x9fff, 1 + Math.floor(rand() * 8)),
    () => randomCodepointString(rand, 0x3040, 0x30ff, 1 + Math.floor(rand() * 8)),
    () => randomCodepointString(rand, 0xac00, 0xd7a3, 1 + Math.floor(rand() * 6)),
    () => randomCodepointString(rand, 0x1f300, 0x1faff, 1 + Math.floor(rand() * 4)),
    () => randomCodepointString(rand, 0x00a0, 0x0250, 1 + Math.floor(rand() * 10)),
    () => randomCodepointString(rand, 0x0300, 0x036f, 1 + Math.floor(rand() * 3)),
    () => randomCodepointString(rand, 0x2000, 0x2bff, 1 + Math.floor(rand() * 5)),
    () => randomCodepointString(rand, 0xf900, 0xffef, 1 + Math.floor(rand() * 5)),
    () => randomCodepointString(rand, 0x20, 0x7f, 1 + Math.floor(rand() * 20)),
    () => String(Math.floor(rand() * 1e9) / (rand() < 0.5 ? 1 : 100)),
    () => pick(['!', '?', '.', '-', '*', '#', '…', '¿', '—']).repeat(1 + Math.floor(rand() * 12)),
    () => 'x'.repeat(90 + Math.floor(rand() * 20)),  // around max_input_chars_per_word
    () => pick(questions).toUpperCase(),
  ];
  const out = ['', ' ', 'a', '.', 'Hello world!'];
  while (out.length < count) {
    const r = rand();
    let s;
    if (r < 0.03) {
      // long: beyond 512 tokens
      s = '';
      while (s.length < 4000) s += pick(questions) + pick(seps);
    } else {
      const parts = 1 + Math.floor(rand() * 6);
      s = '';
      for (let i = 0; i < parts; i++) s += (i ? pick(seps) : '') + pick(gens)();
    }
    out.push(s);
  }
  return out.concat(FIXED);
}
