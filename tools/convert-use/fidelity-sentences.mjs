// The sentence set of the USE-lite fidelity test (and the tokenizer fixture): 220 QQP
// questions (every 91st pair, both sides alternately) plus 30 odd ones: 1 word, >128
// tokens, punctuation, numbers, non-English scripts, emoji, odd whitespace.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export function readQqp(sharedDir) {
  return zlib.gunzipSync(fs.readFileSync(path.join(sharedDir, 'data/qqp/pairs-dev.jsonl.gz'))).toString('utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const LONG_TEXT = Array.from({ length: 30 }, (_, i) =>
  `Sentence number ${i} talks about caching answers from large language models near the user.`).join(' ');

export function fidelitySentences(sharedDir) {
  const lines = readQqp(sharedDir);
  const out = [];
  for (let i = 0; out.length < 220; i++) {
    const row = lines[(i * 91) % lines.length];
    out.push(i % 2 ? row.b : row.a);
  }
  out.push(
    'hello', 'Hi', '?', '42', 'ok.',
    'What is 2+2? And 3.14159 * 2.71828 = 8.5397...',
    '!!!??? ... --- ;;; ::: (((  ))) [[[ ]]] {{{ }}}',
    'Call me at +1 (555) 010-9999 or email test@example.com before 23:59 on 2026-11-22.',
    'Wie viel kostet eine Fahrkarte nach Berlin?',
    '¿Dónde está la biblioteca más cercana?',
    'Quelle est la meilleure façon d\'apprendre le français ?',
    '東京で一番おいしいラーメン屋はどこですか？',
    '机器学习和深度学习有什么区别？',
    'Как выучить русский язык быстро?',
    'ما هي عاصمة المغرب؟',
    'I love pizza 🍕🍕🍕 and tacos 🌮!!',
    '😀😃😄😁',
    'naïve café résumé coöperate ﬁnancial Ⅻ ｆｕｌｌｗｉｄｔｈ',
    'THIS IS ALL CAPS SHOUTING ABOUT CACHES',
    'the the the the the the the the the the the the',
    '   leading and trailing spaces   ',
    'tabs\tand\nnewlines\r\nmixed',
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'https://example.com/path?query=1&b=2#frag',
    'function f(x) { return x * x; } // code',
    'e = mc^2, ∑ x_i ≥ ∫ f(x) dx, √2 ≈ 1.414',
    LONG_TEXT,
    LONG_TEXT.split(' ').slice(0, 110).join(' '),
    'A.',
    'Why?',
  );
  return out;
}
