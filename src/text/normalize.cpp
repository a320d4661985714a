#include "text/normalize.h"

#include "text/unicode.h"

namespace semcache::text {

// Every run of whitespace one space, none at either end.
static std::string collapseSpaces(const char32_t* cps, size_t n) {
  std::string out;
  out.reserve(n);
  bool pendingSpace = false;
  for (size_t i = 0; i < n; i++) {
    if (isJsSpace(cps[i])) {
      pendingSpace = !out.empty();
      continue;
    }
    if (pendingSpace) out.push_back(' ');
    pendingSpace = false;
    utf8Append(cps[i], out);
  }
  return out;
}

std::string normalizePrompt(std::string_view text) {
  bool ascii = true;
  for (unsigned char c : text) ascii &= c < 0x80;
  Codepoints cps;
  utf8Decode(text, cps);
  if (!ascii) cps = nfkc(cps);  // ASCII is NFKC-invariant
  cps = toLowerJs(cps);
  // NFKC can turn a character into whitespace (U+2007 FIGURE SPACE -> ' ') or a sentence mark
  // (U+FF1F -> '?'), so both are handled after it, not before.
  auto quote = [](char32_t c) { return c == '"' || c == 0x201C || c == 0x201D || c == 0x201E || c == 0xAB || c == 0xBB; };
  auto endMark = [](char32_t c) { return c == '.' || c == '?' || c == '!' || c == ',' || c == ';' || c == ':'; };
  auto startMark = [&](char32_t c) { return c == 0xBF || c == 0xA1 || endMark(c); };  // ¿ ¡
  Codepoints kept;
  kept.reserve(cps.size());
  for (char32_t cp : cps)
    if (!quote(cp)) kept.push_back(cp);
  size_t b = 0, e = kept.size();
  while (b < e && (isJsSpace(kept[b]) || startMark(kept[b]))) b++;
  while (e > b && (isJsSpace(kept[e - 1]) || endMark(kept[e - 1]))) e--;
  std::string out = collapseSpaces(kept.data() + b, e - b);
  // only marks and quotes: keep them rather than embed an empty text
  return out.empty() ? collapseSpaces(cps.data(), cps.size()) : out;
}

}  // namespace semcache::text
