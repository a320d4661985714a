#pragma once
// SentencePiece unigram tokenizer, bit-for-bit the Universal Sentence Encoder's JS tokenizer
// (@energetic-ai/embeddings 0.2.0, from @tensorflow-models/universal-sentence-encoder):
//   text -> NFKC -> '▁' + text with every U+0020 replaced by '▁' (empty stays empty)
//   -> Viterbi over code points with the pieces' log-probabilities; a position where no piece
//      starts becomes one unknown (id 0, score 0) of one code point
//   -> consecutive unknowns fused into one id 0.
// Its quirks are kept because the model was trained on its output: the first `reserved` pieces are
// never matched, ties go to the later candidate (shorter piece), a best score of exactly 0 counts
// as "unset", and back-tracking steps back by the piece's length in UTF-16 units.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace semcache::text {

class SentencePieceTokenizer {
 public:
  // vocabJson: the vocab.json text, an array of [piece, score] pairs (id = position).
  explicit SentencePieceTokenizer(std::string_view vocabJson, int reserved = 6);

  // Ids of `text` (UTF-8; invalid bytes become U+FFFD, see unicode.h), cut to the first
  // maxLength ids when maxLength > 0 (the USE model itself has no length limit).
  std::vector<int32_t> encode(std::string_view text, int maxLength = 0) const;
  Batch encodeBatch(const std::vector<std::string>& texts, int maxLength = 0) const;

  int32_t vocabSize() const { return int32_t(pieceLen16_.size()); }

 private:
  struct Node { int32_t piece = -1; double score = 0; };
  std::vector<Node> nodes_;           // trie nodes over code points, 0 = root
  std::vector<uint64_t> edgeKeys_;    // open addressing: key = parent << 21 | cp, ~0 = empty
  std::vector<int32_t> edgeChild_;
  std::vector<int32_t> pieceLen16_;   // piece length in UTF-16 units, by id

  int32_t child(int32_t node, char32_t cp) const;
  void addEdge(int32_t node, char32_t cp, int32_t childNode);
};

}  // namespace semcache::text
