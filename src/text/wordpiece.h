#pragma once
// BERT WordPiece tokenizer, id-for-id what @huggingface/transformers 3.8.1 (transformers.js)
// produces for a BertNormalizer + BertPreTokenizer + WordPiece + [CLS] x [SEP] tokenizer.json
// (all-MiniLM-L6-v2, bge-small, e5-small):
//   1. split the raw text on added tokens ([CLS], [SEP], [MASK], ...; longest match, exact
//      bytes): those map straight to their ids, each other section is processed on its own;
//   2. BertNormalizer: drop U+0000, U+FFFD and Cc/Cf/Co/Cs except \t\n\r; JS-\s whitespace ->
//      ' '; spaces around CJK ideographs (BMP ones only: transformers.js tests UTF-16 units);
//      lower-case like String.prototype.toLowerCase (final sigma included); strip accents
//      (NFD, drop \p{Mn}) when lower-casing unless strip_accents is false, or when it is true;
//   3. BertPreTokenizer: words are runs of non-space non-punctuation; each punctuation char
//      (\p{P} and ASCII symbols) is a word;
//   4. WordPiece: greedy longest match with "##" continuations, a word that cannot be covered
//      or is longer than max_input_chars_per_word code points becomes [UNK];
//   5. [CLS] ids [SEP], then the whole row cut to maxLength (transformers.js truncates after
//      adding the special tokens, so a cut row ends without [SEP]; Python tokenizers differ).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/string_map.h"
#include "text/unicode.h"
#include "text/tokenizer.h"

namespace semcache::text {

struct WordPieceOptions {
  bool cleanText = true;
  bool handleChineseChars = true;
  bool lowercase = true;
  int stripAccents = -1;  // -1 = null (follow lowercase), 0 = false, 1 = true
  std::string unkToken = "[UNK]";
  std::string clsToken = "[CLS]";
  std::string sepToken = "[SEP]";
  std::string padToken = "[PAD]";
  std::string prefix = "##";
  int maxInputCharsPerWord = 100;
  int modelMaxLength = 512;  // tokenizer_config.json model_max_length
};

class WordPieceTokenizer {
 public:
  // From tokenizer.json text; modelMaxLength from tokenizer_config.json (rows never exceed it).
  static WordPieceTokenizer fromTokenizerJson(std::string_view tokenizerJson, int modelMaxLength = 512);
  // From vocab.txt text (one token per line, id = line number) and BertTokenizer options; the
  // special tokens in opts that exist in the vocab are the added tokens.
  static WordPieceTokenizer fromVocabTxt(std::string_view vocabTxt, const WordPieceOptions& opts);

  // [CLS] ... [SEP] ids, cut to min(maxLength, modelMaxLength); maxLength 0 = modelMaxLength.
  std::vector<int32_t> encode(std::string_view text, int maxLength = 0) const;
  Batch encodeBatch(const std::vector<std::string>& texts, int maxLength = 0) const;

  int32_t vocabSize() const { return int32_t(vocab_.size()); }
  int32_t padId() const { return padId_; }
  int32_t modelMaxLength() const { return opts_.modelMaxLength; }

 private:
  WordPieceOptions opts_;
  StringIdMap vocab_;
  std::vector<std::string> added_;    // added-token contents, matched on the raw text
  std::vector<Codepoints> addedCps_;
  std::vector<int32_t> addedIds_;
  std::vector<std::pair<bool, bool>> addedStrip_;  // (lstrip, rstrip)
  std::vector<int32_t> prefix_, suffix_;           // template specials around the text
  int32_t unkId_ = -1, clsId_ = -1, sepId_ = -1, padId_ = 0;

  void finish();
  void encodeSection(const Codepoints& section, std::vector<int32_t>& ids) const;
  void wordPiece(const char32_t* w, size_t n, std::vector<int32_t>& ids) const;
};

}  // namespace semcache::text
