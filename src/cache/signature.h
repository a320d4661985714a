#pragma once
// A prompt's lexical signature: what the learned evaluator needs to compare two prompts beyond
// their embeddings, small enough to keep per entry (the core holds no prompt texts). Hashes are
// the low 32 bits of XXH64 of the normalized token; each list is sorted and deduplicated.
// Long prompts keep a bottom-k sketch of their content words (the k smallest hashes), the same
// sample on both sides, so set differences stay estimates of the whole prompts' differences.
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace semcache {

struct Signature {
  std::vector<uint32_t> words;     // content words: lowercased, lightly stemmed, no stopwords
  std::vector<uint32_t> numbers;   // "2016", "5kg" ("5 kg" -> "5kg"), "five" -> "5"; days and
                                   // months ("tuesday", "tomorrow", "june") compare the same way
  std::vector<uint32_t> names;     // capitalised content words not at a sentence start, acronyms
                                   // (hashed like words: a name matches the other side's word)
  std::vector<uint32_t> polarity;  // antonym marks: pair id * 2 + side (good/bad -> 2k, 2k+1)
  uint16_t tokens = 0;             // all word tokens, capped at 65535
  uint8_t negations = 0;           // not, no, never, n't, without… (capped at 255)
  uint8_t question = 0;            // bit i: question word i (what why how when where who which) used
};

constexpr size_t kMaxSigWords = 64, kMaxSigOthers = 16;

Signature makeSignature(std::string_view text);
// Every content word hash of text, in order (no cap, may repeat): the IDF builder's view.
void forEachContentWord(std::string_view text, const std::function<void(uint32_t)>& f);

void writeSignature(ByteWriter& w, const Signature& s);
Signature readSignature(ByteReader& r);  // CORRUPT_SNAPSHOT on unsorted or oversized lists
size_t signatureBytes(const Signature& s);

}  // namespace semcache
