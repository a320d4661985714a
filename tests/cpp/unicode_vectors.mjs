// Prints Node's NFKC, NFD and toLowerCase for the C++ Unicode tests (tokenizer_unicode_test.cpp):
//   in;nfkc;nfd;lower   (each a space-separated hex code point list)
// Every single code point whose three results are not itself, then seeded random sequences of
// starters, combining marks, Hangul jamo/syllables and Greek sigma contexts.
const hex = (s) => [...s].map((c) => c.codePointAt(0).toString(16)).join(' ');
const lines = [];
const emit = (s) => lines.push(`${hex(s)};${hex(s.normalize('NFKC'))};${hex(s.normalize('NFD'))};${hex(s.toLowerCase())}`);
for (let c = 0; c < 0x110000; c++) {
  if (c >= 0xd800 && c < 0xe000) continue;
  const s = String.fromCodePoint(c);
  if (s.normalize('NFKC') !== s || s.normalize('NFD') !== s || s.toLowerCase() !== s) emit(s);
}
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const pool = [
  ...'aeiouAEIOUcnsyzCNSYZ', 'ı', 'İ', 'Σ', 'Σ', 'Σ', 'σ', 'ʰ', '.', "'", ' ', '-',
  '\u0300', '\u0301', '\u0302', '\u0303', '\u0308', '\u0323', '\u0327', '\u0328', '\u031b', '\u0345', '\u0334',
  '\u05b0', '\u093c', '\u094d', '\u0e38', '\u3099', '\u309a', 'か', 'ハ', 'ｶ', 'ﾞ', 'ﾟ',
  '\u1100', '\u1161', '\u11a8', '\u11c2', '가', '각', 'ᄀ', 'ᅡ', '\u0915', '\u093f', '\u0b47', '\u0b3e', '\u0b57',
  'Å', 'Å', 'é', 'ǖ', 'ệ', 'ﬁ', '²', '½', '\u1fbf', '\u0385', '\u00a8', '\u0f73', '\u0f71', '\u0f72', '\u0f80',
  '\u0344', '\u0340', '\u0958', '\u2126', 'Ω', 'ω', 'ᾼ', 'ῳ', '\u{1d15e}', '\u{1d165}', '\u{11099}', '\u{110ba}',
];
for (let i = 0; i < 20000; i++) {
  const n = 2 + Math.floor(rand() * 7);
  let s = '';
  for (let k = 0; k < n; k++) s += pool[Math.floor(rand() * pool.length)];
  emit(s);
}
process.stdout.write(lines.join('\n') + '\n');
