// What a cache sees that QQP's labelled pairs do not spell out, generated from the training
// questions (deterministic: a seeded PRNG per question and variant).
//  - rewordings that must hit: punctuation, small typos, contractions, "how do I"/"how can I",
//    "which"/"what", a polite prefix or suffix. Case and whitespace need no augmentation: the
//    cache folds them before embedding (src/text/normalize.h) and the recipe trains on that form.
//  - near misses that must not hit: another number, another entity of the same kind
//    (language, country, city, company, month, weekday, planet, animal, sport, instrument,
//    currency, unit), an antonym, swapped arguments ("from A to B"). Not an inserted negation:
//    in questions it often keeps the meaning ("Can't you…?"), and the evaluator's negation
//    feature is there for it.
// The word lists here are the recipe's; the probe set (tests/js/quality-probes.mjs) was written
// separately and uses entities and phrasings chosen without looking at them.

/** mulberry32 */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, for per-text seeds. */
export function hash32(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const pick = (r, xs) => xs[Math.floor(r() * xs.length)];

// ---- rewordings (same question) ----

const KEYBOARD = {
  a: 'qsz', b: 'vgn', c: 'xvd', d: 'sfe', e: 'wrd', f: 'dgr', g: 'fht', h: 'gjy', i: 'uok', j: 'hku', k: 'jli', l: 'ko',
  m: 'nj', n: 'bmh', o: 'ipl', p: 'o', q: 'wa', r: 'eft', s: 'adw', t: 'rgy', u: 'yji', v: 'cbf', w: 'qes', x: 'zc', y: 'tuh', z: 'xa',
};

function typo(text, r) {
  const words = [...text.matchAll(/[A-Za-z]{4,}/g)];
  if (!words.length) return null;
  const w = pick(r, words);
  const s = w[0], i = 1 + Math.floor(r() * (s.length - 2));
  let t;
  const op = r();
  if (op < 0.3) t = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);        // swap neighbours
  else if (op < 0.55) t = s.slice(0, i) + s.slice(i + 1);                     // drop one
  else if (op < 0.75) t = s.slice(0, i) + s[i] + s.slice(i);                  // double one
  else {
    const near = KEYBOARD[s[i].toLowerCase()];
    if (!near) return null;
    t = s.slice(0, i) + pick(r, [...near]) + s.slice(i + 1);                  // a neighbouring key
  }
  return text.slice(0, w.index) + t + text.slice(w.index + s.length);
}

function punctuation(text, r) {
  const op = r();
  if (op < 0.4 && /[?.!]\s*$/.test(text)) return text.replace(/\s*[?.!]+\s*$/, '');
  if (op < 0.55 && /\?\s*$/.test(text)) return text.replace(/\?\s*$/, '.');
  if (op < 0.7 && !/[?.!]\s*$/.test(text)) return `${text.trimEnd()}?`;
  if (op < 0.85 && /,/.test(text)) return text.replace(/,/g, '');
  if (/'/.test(text)) return text.replace(/'/g, '');
  if (/[?.!]\s*$/.test(text)) return text.replace(/\s*([?.!])\s*$/, '$1$1$1');
  return null;
}

// [pattern, replacements] on the lowercased text; each keeps the question's meaning
const PHRASES = [
  [/\bhow do i\b/, ['how can i', 'how do you', 'how would i']],
  [/\bhow can i\b/, ['how do i', 'how can one', 'what is the way to']],
  [/\bwhat is\b/, ["what's", 'what exactly is']],
  [/\bwhat's\b/, ['what is']],
  [/\bwhich\b/, ['what']],
  [/\bwhat are some\b/, ['what are', 'which are some']],
  [/\bwhat are the best\b/, ['what are some good', 'which are the best']],
  [/\bis it possible to\b/, ['can i', 'can one']],
  [/\bi am\b/, ["i'm"]], [/\bi'm\b/, ['i am']],
  [/\bdo not\b/, ["don't"]], [/\bdon't\b/, ['do not']],
  [/\bdoes not\b/, ["doesn't"]], [/\bdoesn't\b/, ['does not']],
  [/\bcannot\b/, ["can't", 'can not']], [/\bcan't\b/, ['cannot']],
  [/\bis not\b/, ["isn't"]], [/\bisn't\b/, ['is not']],
  [/\bshould i\b/, ['ought i to', 'do i need to']],
  [/\bthe best way\b/, ['the best method', 'the most effective way']],
  [/\bwhy do\b/, ['for what reason do', 'how come']],
  [/\bdifference between\b/, ['difference among', 'differences between']],
  [/\bhow much does\b/, ['what does']],
];
const PREFIXES = ['please tell me: ', 'quick question: ', 'hey, ', 'can you tell me ', 'i wonder: '];
const SUFFIXES = [' please', ' thanks', ' thank you', ' (asking for a friend)'];

function phrase(text, r) {
  const lower = text.toLowerCase();
  const ok = PHRASES.filter(([re]) => re.test(lower));
  if (!ok.length) return null;
  const [re, reps] = pick(r, ok);
  return lower.replace(re, pick(r, reps));
}

function politeness(text, r) {
  return r() < 0.6 ? pick(r, PREFIXES) + text : text.replace(/\s*([?.!]*)\s*$/, (m, p) => `${pick(r, SUFFIXES)}${p}`);
}

const REWORDINGS = [[typo, 3], [punctuation, 3], [phrase, 3], [politeness, 1]];

/** A rewording of `text` that asks the same thing (one or two edits), or null. */
export function reword(text, seed) {
  const r = rng(seed);
  const total = REWORDINGS.reduce((s, [, w]) => s + w, 0);
  let out = text;
  const edits = r() < 0.3 ? 2 : 1;
  for (let e = 0, tries = 0; e < edits && tries < 8; tries++) {
    let x = r() * total, f;
    for (const [g, w] of REWORDINGS) if ((x -= w) < 0 && !f) f = g;
    const y = f(out, r);
    if (y && y !== out) (out = y), e++;
  }
  return out === text ? null : out;
}

// ---- near misses (another question) ----

const KINDS = [
  ['python', 'java', 'javascript', 'c++', 'ruby', 'php', 'swift', 'kotlin', 'golang', 'rust', 'scala', 'perl', 'matlab', 'haskell'],
  ['india', 'china', 'usa', 'america', 'canada', 'germany', 'france', 'japan', 'pakistan', 'australia', 'russia', 'brazil', 'italy', 'spain', 'mexico', 'uk', 'england', 'israel', 'iran', 'egypt', 'nigeria', 'sweden', 'singapore', 'dubai'],
  ['delhi', 'mumbai', 'bangalore', 'london', 'paris', 'berlin', 'tokyo', 'chicago', 'boston', 'seattle', 'toronto', 'sydney', 'hyderabad', 'chennai', 'pune', 'kolkata', 'beijing', 'moscow', 'rome', 'madrid'],
  ['google', 'facebook', 'amazon', 'apple', 'microsoft', 'quora', 'netflix', 'uber', 'twitter', 'instagram', 'samsung', 'tesla', 'ibm', 'intel', 'oracle', 'flipkart', 'infosys', 'tcs', 'wipro'],
  ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'],
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
  ['mercury', 'venus', 'earth', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'moon', 'sun'],
  ['dog', 'cat', 'horse', 'cow', 'lion', 'tiger', 'elephant', 'snake', 'bird', 'fish', 'rabbit', 'wolf', 'bear', 'monkey'],
  ['cricket', 'football', 'soccer', 'tennis', 'basketball', 'baseball', 'hockey', 'golf', 'badminton', 'chess', 'swimming', 'boxing'],
  ['guitar', 'piano', 'violin', 'drums', 'flute', 'saxophone', 'ukulele'],
  ['dollar', 'dollars', 'euro', 'euros', 'rupee', 'rupees', 'yen', 'pound', 'pounds', 'bitcoin'],
  ['kg', 'pounds', 'grams', 'ounces', 'km', 'miles', 'meters', 'feet', 'inches', 'celsius', 'fahrenheit', 'liters', 'gallons'],
  ['iphone', 'android', 'windows', 'linux', 'mac', 'ubuntu', 'ios'],
  ['hindi', 'english', 'french', 'german', 'spanish', 'chinese', 'japanese', 'arabic', 'russian', 'tamil', 'urdu'],
  ['physics', 'chemistry', 'biology', 'mathematics', 'math', 'history', 'economics', 'psychology', 'philosophy', 'engineering', 'medicine', 'law'],
  ['trump', 'clinton', 'obama', 'modi', 'putin', 'hillary', 'bush', 'lincoln', 'gandhi', 'einstein', 'newton'],
  ['breakfast', 'lunch', 'dinner'], ['morning', 'evening', 'night', 'afternoon'], ['summer', 'winter', 'spring', 'autumn'],
  ['husband', 'wife', 'boyfriend', 'girlfriend', 'father', 'mother', 'brother', 'sister', 'son', 'daughter', 'friend', 'boss'],
  ['coffee', 'tea', 'beer', 'wine', 'milk', 'water', 'juice'],
  ['red', 'blue', 'green', 'yellow', 'black', 'white', 'purple', 'orange', 'pink'],
];
const ANTONYMS = [
  ['good', 'bad'], ['best', 'worst'], ['increase', 'decrease'], ['before', 'after'], ['cheap', 'expensive'], ['buy', 'sell'],
  ['start', 'stop'], ['win', 'lose'], ['hot', 'cold'], ['fast', 'slow'], ['positive', 'negative'], ['more', 'less'],
  ['easy', 'hard'], ['gain', 'lose'], ['rich', 'poor'], ['love', 'hate'], ['young', 'old'], ['first', 'last'],
  ['true', 'false'], ['legal', 'illegal'], ['healthy', 'unhealthy'], ['happy', 'sad'], ['advantages', 'disadvantages'],
  ['pros', 'cons'], ['maximum', 'minimum'], ['import', 'export'], ['upload', 'download'], ['inside', 'outside'],
  ['men', 'women'], ['male', 'female'], ['boys', 'girls'], ['up', 'down'], ['enable', 'disable'], ['always', 'never'],
];
const WORD_TO_KIND = new Map();
KINDS.forEach((k, i) => k.forEach((w) => WORD_TO_KIND.set(w, i)));
const ANTONYM_OF = new Map();
for (const [a, b] of ANTONYMS) ANTONYM_OF.set(a, b), ANTONYM_OF.set(b, a);
const escape = (w) => w.replace(/[+]/g, '\\+');

function number(text, r) {
  const nums = [...text.matchAll(/\d+(\.\d+)?/g)];
  if (!nums.length) return null;
  const m = pick(r, nums);
  const n = Number(m[0]);
  const cand = Number.isInteger(n) ? [n + 1, n - 1, n * 2, n + 10, n * 10, n + 2].filter((x) => x >= 0 && x !== n) : [n * 2, n + 1];
  const x = pick(r, cand);
  return text.slice(0, m.index) + String(x) + text.slice(m.index + m[0].length);
}

function entity(text, r) {
  const lower = text.toLowerCase();
  const hits = [...lower.matchAll(/[a-z+]+/g)].filter((m) => WORD_TO_KIND.has(m[0]));
  if (!hits.length) return null;
  const m = pick(r, hits);
  const kind = KINDS[WORD_TO_KIND.get(m[0])];
  const other = pick(r, kind.filter((w) => w !== m[0]));
  return lower.slice(0, m.index) + other + lower.slice(m.index + m[0].length);
}

function antonym(text, r) {
  const lower = text.toLowerCase();
  const hits = [...lower.matchAll(/[a-z]+/g)].filter((m) => ANTONYM_OF.has(m[0]));
  if (!hits.length) return null;
  const m = pick(r, hits);
  return lower.slice(0, m.index) + ANTONYM_OF.get(m[0]) + lower.slice(m.index + m[0].length);
}

const STOP = new Set(['a', 'an', 'the', 'is', 'are', 'was', 'it', 'this', 'that', 'my', 'your', 'one', 'much', 'any']);

function reversal(text) {
  const lower = text.toLowerCase();
  const re = /\bfrom ([a-z0-9+]+) to ([a-z0-9+]+)\b/;
  const m = lower.match(re);
  if (m && m[1] !== m[2] && !STOP.has(m[1]) && !STOP.has(m[2])) return lower.replace(re, `from ${m[2]} to ${m[1]}`);
  const c = lower.match(/\b(convert|translate|switch|move|transfer|migrate|change) ([a-z0-9+]+) (to|into) ([a-z0-9+]+)\b/);
  if (c && c[2] !== c[4] && !STOP.has(c[2]) && !STOP.has(c[4])) return lower.replace(c[0], `${c[1]} ${c[4]} ${c[3]} ${c[2]}`);
  const v = lower.match(/\b([a-z0-9+]+) (better|bigger|faster|older|stronger|cheaper|more popular) than ([a-z0-9+]+)\b/);
  if (v && v[1] !== v[3] && !STOP.has(v[1]) && !STOP.has(v[3])) return lower.replace(v[0], `${v[3]} ${v[2]} than ${v[1]}`);
  return null;
}

const NEAR_MISSES = [[entity, 4], [number, 3], [antonym, 2], [reversal, 3]];

/** A question close to `text` that asks something else, or null when none of the edits applies. */
export function nearMiss(text, seed) {
  const r = rng(seed);
  const ok = NEAR_MISSES.map(([f, w]) => [f, w, f(text, rng(seed ^ 0x9e3779b9))]).filter(([, , y]) => y && y.toLowerCase() !== text.toLowerCase());
  if (!ok.length) return null;
  const total = ok.reduce((s, [, w]) => s + w, 0);
  let x = r() * total;
  for (const [, w, y] of ok) if ((x -= w) < 0) return y;
  return ok.at(-1)[2];
}

export const augmentationLists = { KINDS, ANTONYMS, PHRASES: PHRASES.map(([re, reps]) => [re.source, reps]), PREFIXES, SUFFIXES };
