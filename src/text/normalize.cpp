#include "text/normalize.h"

#include "text/unicode.h"

namespace semcache::text {

std::string normalizePrompt(std::string_view text) {
  bool ascii = true;
  for (unsigned char c : text) ascii &= c < 0x80;
  Codepoints cps;
  utf8Decode(text, cps);
  if (!ascii) cps = nfkc(cps);  // ASCII is NFKC-invariant
  cps = toLowerJs(cps);
  // NFKC can turn a character into whitespace (U+2007 FIGURE SPACE -> ' '), so spaces are
  // collapsed after it, not before.
  std::string out;
  out.reserve(text.size());
  bool pendingSpace = false;
  for (char32_t cp : cps) {
    if (isJsSpace(cp)) {
      pendingSpace = !out.empty();
      continue;
    }
    if (pendingSpace) out.push_back(' ');
    pendingSpace = false;
    utf8Append(cp, out);
  }
  return out;
}

}  // namespace semcache::text
