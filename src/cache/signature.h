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
  std::vector<uint32_t> marks;     // what two prompts must agree on when both have it (see below)
  uint16_t tokens = 0;             // all word tokens, capped at 65535
  uint8_t negations = 0;           // not, no, never, n't, without… (capped at 255)
  uint8_t question = 0;            // bit i: question word i (what why how when where who which) used
};

constexpr size_t kMaxSigWords = 64, kMaxSigOthers = 16;

// A mark names a group and a member of it; two prompts that use different members of one group
// disagree (the learned evaluator's vetoes):
//  - antonyms: pair id * 2 + side ("good" / "bad" -> 2k, 2k + 1), below kEntityMark;
//  - entities (cache/gazetteer.h): kEntityMark | kind << 16 | member ("java", "python");
//  - argument order: kOrderMark | (hash of the two words, low bit cleared) | which comes first,
//    for the content words on either side of "to", "from", "than", "of", "into", "vs"
//    ("convert Celsius to Fahrenheit" / "convert Fahrenheit to Celsius").
constexpr uint32_t kEntityMark = 0x40000000u, kOrderMark = 0x80000000u;
enum class MarkKind { kAntonym, kEntity, kOrder };
MarkKind markKind(uint32_t mark);
uint32_t markGroup(uint32_t mark);   // which pair, kind or word pair (unique within its MarkKind)
uint32_t markMember(uint32_t mark);  // which side, entity or order

Signature makeSignature(std::string_view text);
// Every content word hash of text, in order (no cap, may repeat): the IDF builder's view.
void forEachContentWord(std::string_view text, const std::function<void(uint32_t)>& f);

void writeSignature(ByteWriter& w, const Signature& s);
Signature readSignature(ByteReader& r);  // CORRUPT_SNAPSHOT on unsorted or oversized lists
size_t signatureBytes(const Signature& s);

}  // namespace semcache
