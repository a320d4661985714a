#pragma once
// UTF-8 <-> code points, Unicode normalization (NFD, NFKC) and the character classes the
// tokenizers need, all matching what Node's JS engine does (tables come from Node's ICU).
//
// Invalid UTF-8 policy (deterministic, same as JS `new TextDecoder().decode(bytes)`): every
// maximal ill-formed subpart becomes one U+FFFD; decoding never fails. UTF-8-encoded surrogates
// (ED A0..ED BF) are ill-formed and so become U+FFFD too.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace semcache::text {

using Codepoints = std::vector<char32_t>;

// Appends to out. surrogateAsOne: a 3-byte encoded surrogate (ED A0..BF xx, WTF-8) is one U+FFFD,
// as TextEncoder makes of a lone surrogate, instead of three (byte-level BPE's decode needs this).
void utf8Decode(std::string_view s, Codepoints& out, bool surrogateAsOne = false);
void utf8Append(char32_t cp, std::string& out);
std::string utf8Encode(const char32_t* cps, size_t n);
// Length of the code point in UTF-16 code units (what JS `.length` counts).
inline int utf16Length(char32_t cp) { return cp >= 0x10000 ? 2 : 1; }

bool inMn(char32_t cp);
bool inCased(char32_t cp);
bool inCaseIgnorable(char32_t cp);
bool inBertControl(char32_t cp);   // \p{Cc}|\p{Cf}|\p{Co}|\p{Cs}
bool isJsSpace(char32_t cp);       // JS \s
bool isBertPunct(char32_t cp);     // \p{P} or ASCII !-/ :-@ [-` {-~

// String.prototype.normalize('NFD' / 'NFKC') on code points.
Codepoints nfd(const Codepoints& in);
Codepoints nfkc(const Codepoints& in);
// String.prototype.toLowerCase (locale-independent; includes the final-sigma rule).
Codepoints toLowerJs(const Codepoints& in);

}  // namespace semcache::text
