// Types of what bindings/text_bindings.cpp binds into the semcache_core wasm module.
// Embind checks argument counts: every parameter below is required.
// Text crosses as UTF-8. Pass `text.toWellFormed()`: the Emscripten 3.1.6 encoder folds a lone
// UTF-16 surrogate into the next code unit, while U+FFFD in its place gives exactly the ids the
// reference tokenizers give for the raw string. Ids come back as fresh Int32Arrays.
// Errors are thrown as {name: 'SemcacheError', code, message}; a malformed vocabulary or
// tokenizer.json has code 'INVALID_VOCAB', a negative maxLength 'INVALID_ARGUMENT'.

/** Padded batch: ids and mask are (rows, cols) row-major; lengths is (rows). */
export interface TokenBatch {
  ids: Int32Array;
  mask: Int32Array;
  lengths: Int32Array;
  rows: number;
  cols: number;
}

/** Universal Sentence Encoder lite SentencePiece tokenizer (ids equal its reference JS tokenizer). */
export interface SentencePieceTokenizer {
  /** maxLength 0 = no limit (the USE model has none); otherwise the first maxLength ids. */
  encode(text: string, maxLength: number): Int32Array;
  /** Rows padded with id 0 (the mask tells padding apart). */
  encodeBatch(texts: string[], maxLength: number): TokenBatch;
  vocabSize(): number;
  delete(): void;
}

export interface SentencePieceTokenizerClass {
  /** vocabJson: text of vocab.json, an array of [piece, score]. */
  new (vocabJson: string): SentencePieceTokenizer;
}

/** BERT WordPiece tokenizer (ids equal @huggingface/transformers' for the same tokenizer.json). */
export interface WordPieceTokenizer {
  /** [CLS] … [SEP], cut to min(maxLength, modelMaxLength) ids (0 = modelMaxLength); a cut row
   *  has no trailing [SEP], as in transformers.js. */
  encode(text: string, maxLength: number): Int32Array;
  /** Rows padded with padId(). */
  encodeBatch(texts: string[], maxLength: number): TokenBatch;
  vocabSize(): number;
  modelMaxLength(): number;
  padId(): number;
  delete(): void;
}

export interface WordPieceTokenizerClass {
  /** tokenizer.json text; modelMaxLength from tokenizer_config.json (0 = unlimited; values past
   *  2^31-1, such as the 1e30 some configs use, are clamped). */
  fromTokenizerJson(tokenizerJson: string, modelMaxLength: number): WordPieceTokenizer;
  /** vocab.txt text (one token per line) with BertTokenizer defaults. */
  fromVocabTxt(vocabTxt: string, lowercase: boolean, modelMaxLength: number): WordPieceTokenizer;
}

export interface TextModule {
  /** A prompt's normalized form (src/text/normalize.h): NFKC, lower case (as JS toLowerCase),
   *  each run of whitespace one space, trimmed. Idempotent. The cache embeds this form. */
  normalizePrompt(text: string): string;
  SentencePieceTokenizer: SentencePieceTokenizerClass;
  WordPieceTokenizer: WordPieceTokenizerClass;
}
