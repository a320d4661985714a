// The labelled data the quality harness, the evaluator trainer and the encoder fine-tuning
// share, and the one split between them. QQP pairs are split by connected components of their
// questions (texts compared after NFKC, case folding and whitespace collapsing, what the cache
// itself does to a prompt): two pairs that share a question always land in the same part, so no
// validation question was ever seen in training. A line-number split leaked: 1,802 of its 8,086
// validation pairs shared a question with a training pair.
//   train  ~70%: fine-tuning the encoder, fitting the evaluator and the pair model
//   calib  ~10%: calibration (threshold for a false-hit rate) and model selection
//   val    ~20%: reported figures only (npm run bench -- quality), never read by a trainer
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.SEMCACHE_SHARED_DIR ?? path.resolve(root, '../shared');
export const QQP_FILE = path.join(SHARED, 'data/qqp/pairs-dev.jsonl.gz');

/** GPTCache's mock_data: [{origin, similar}] (999 pairs). */
export function mockData() {
  return JSON.parse(fs.readFileSync(path.join(SHARED, 'data/gptcache-mock/mock_data.json'), 'utf8'));
}

/** Texts that group into one question for the split: NFKC, lower case, one space. (The split was
 * made with this key; the cache's normalizePrompt also drops quotes and end marks: embedKey.) */
export const groupKey = (s) => s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();

/** The core's normalizePrompt in JS: the text the cache embeds (tests/js/normalize.test.ts holds
 * the two equal on random strings). */
export function embedKey(s) {
  const base = s.normalize('NFKC').toLowerCase();
  const collapse = (t) => t.replace(/\s+/g, ' ').trim();
  return collapse(base.replace(/["“”„«»]/g, '').replace(/^[\s¿¡.?!,;:]+|[\s.?!,;:]+$/g, '')) || collapse(base);
}

/** Which part a component goes to, from the hash of its smallest question: stable across runs. */
function partOf(key) {
  const h = crypto.createHash('sha256').update(key).digest().readUInt32BE(0) % 100;
  return h < 20 ? 'val' : h < 30 ? 'calib' : 'train';
}

/** All QQP dev pairs [{a, b, label, index}] (index = line number). */
export function qqpPairs() {
  const lines = zlib.gunzipSync(fs.readFileSync(QQP_FILE)).toString('utf8').split('\n');
  const out = [];
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const { a, b, label } = JSON.parse(line);
    out.push({ a, b, label, index });
  });
  return out;
}

/** QQP dev pairs split by question components into {train, calib, val}, each [{a, b, label, index, component}]. */
export function qqpSplit() {
  const pairs = qqpPairs();
  const parent = new Map();
  const find = (x) => {
    while (parent.get(x) !== x) {
      parent.set(x, parent.get(parent.get(x)));
      x = parent.get(x);
    }
    return x;
  };
  const keys = pairs.map((p) => [groupKey(p.a), groupKey(p.b)]);
  for (const [a, b] of keys) {
    for (const k of [a, b]) if (!parent.has(k)) parent.set(k, k);
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent.set(ra < rb ? rb : ra, ra < rb ? ra : rb);  // the smaller text is the root
  }
  const minOf = new Map();  // root -> smallest text of the component (independent of pair order)
  for (const k of parent.keys()) {
    const r = find(k);
    if (!minOf.has(r) || k < minOf.get(r)) minOf.set(r, k);
  }
  const split = { train: [], calib: [], val: [] };
  pairs.forEach((p, i) => {
    const component = minOf.get(find(keys[i][0]));
    split[partOf(component)].push({ ...p, component });
  });
  return split;
}

/** sha256 of the QQP file: what a trained artifact's manifest records as its data. */
export function qqpDataHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(QQP_FILE)).digest('hex');
}
