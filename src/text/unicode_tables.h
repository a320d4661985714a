#pragma once
// Unicode data tables generated from Node's ICU by tools/gen_unicode_tables.mjs (see the header of
// unicode_tables.cpp). All arrays are sorted by code point; sets are inclusive ranges.
#include <cstddef>
#include <cstdint>

namespace semcache::text::tables {

// Full decompositions (canonical and compatibility), already in canonical order; Hangul syllables
// are decomposed algorithmically and are not listed.
struct DecompEntry { uint32_t cp; uint32_t off; uint32_t len; uint32_t koff; uint32_t klen; };
// String.prototype.toLowerCase for one code point (final sigma excluded: it depends on context).
struct LowerEntry { uint32_t cp; uint32_t off; uint32_t len; };
// Canonical combining class rank (order-preserving stand-in for the UCD value); absent = 0.
struct CccEntry { uint32_t cp; uint32_t rank; };
// Primary composite: first + second -> composite (sorted by first, then second).
struct CompEntry { uint32_t first; uint32_t second; uint32_t composite; };
struct Range { uint32_t lo; uint32_t hi; };

extern const uint32_t kPool[];
extern const DecompEntry kDecomp[];
extern const size_t kDecompCount;
extern const LowerEntry kLower[];
extern const size_t kLowerCount;
extern const CccEntry kCcc[];
extern const size_t kCccCount;
extern const CompEntry kComp[];
extern const size_t kCompCount;

extern const Range kMn[];             // \p{Mn}
extern const size_t kMnCount;
extern const Range kCased[];          // \p{Cased}
extern const size_t kCasedCount;
extern const Range kCaseIgnorable[];  // \p{Case_Ignorable}
extern const size_t kCaseIgnorableCount;
extern const Range kBertControl[];    // \p{Cc}|\p{Cf}|\p{Co}|\p{Cs}
extern const size_t kBertControlCount;
extern const Range kJsSpace[];        // JS \s
extern const size_t kJsSpaceCount;
extern const Range kBertPunct[];      // \p{P} plus the ASCII symbol ranges BERT counts as punctuation
extern const size_t kBertPunctCount;

}  // namespace semcache::text::tables
