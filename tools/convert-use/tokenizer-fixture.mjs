#!/usr/bin/env node
// Writes build/fixtures/use-lite-tokens.jsonl: {"text", "ids"} per line, the token ids that
// the USE-lite package's own JS tokenizer (@energetic-ai/embeddings) gives for the
// fidelity sentences plus the first 2,000 QQP questions. A native SentencePiece tokenizer
// must reproduce these ids exactly to feed the converted model.
// Usage: node tools/convert-use/tokenizer-fixture.mjs [--out FILE] [--shared DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceTokenizer } from './tfjs-reference.mjs';
import { fidelitySentences, readQqp } from './fidelity-sentences.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? path.resolve(args[i + 1]) : def; };
const shared = opt('--shared', process.env.SEMCACHE_SHARED_DIR || path.resolve(ROOT, '../shared'));
const out = opt('--out', path.join(ROOT, 'build/fixtures/use-lite-tokens.jsonl'));

const tokenize = referenceTokenizer();
const texts = [...fidelitySentences(shared), ...readQqp(shared).slice(0, 2000).map((r) => r.a)];
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, texts.map((text) => JSON.stringify({ text, ids: tokenize(text) })).join('\n') + '\n');
console.log(`wrote ${texts.length} tokenized sentences to ${out}`);
