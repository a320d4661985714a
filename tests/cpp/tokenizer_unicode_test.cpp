// The C++ NFKC / NFD / toLowerCase against Node's own (tests/cpp/unicode_vectors.mjs): every code
// point plus 20,000 random sequences built to exercise reordering, composition, Hangul and sigma.
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <unordered_set>

#include "text/unicode.h"

using namespace semcache::text;

namespace {

Codepoints parseHex(const std::string& field) {
  Codepoints out;
  std::istringstream in(field);
  std::string tok;
  while (in >> tok) out.push_back(char32_t(std::stoul(tok, nullptr, 16)));
  return out;
}

std::string show(const Codepoints& cps) {
  std::string s;
  char buf[16];
  for (char32_t c : cps) { std::snprintf(buf, sizeof buf, "%X ", unsigned(c)); s += buf; }
  return s;
}

std::string runNode() {
  std::string cmd = "node " SEMCACHE_SOURCE_DIR "/tests/cpp/unicode_vectors.mjs";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace

TEST(Unicode, Utf8DecodeReplacesMaximalSubparts) {
  Codepoints cps;
  // F0 9F 98 = truncated 4-byte; ED A0 80 = encoded surrogate (3 subparts); C0 AF = overlong
  utf8Decode("a\xF0\x9F\x98" "b\xED\xA0\x80" "c\xC0\xAF" "\xF0\x9F\x98\x80", cps);
  EXPECT_EQ(cps, (Codepoints{'a', 0xFFFD, 'b', 0xFFFD, 0xFFFD, 0xFFFD, 'c', 0xFFFD, 0xFFFD, 0x1F600}));
  EXPECT_EQ(utf8Encode(cps.data(), cps.size()), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                                                "c\xEF\xBF\xBD\xEF\xBF\xBD\xF0\x9F\x98\x80");
}

TEST(Unicode, MatchesNodeNormalizeAndLowerCase) {
  std::string out = runNode();
  ASSERT_GT(out.size(), 1000000u) << "could not run node on tests/cpp/unicode_vectors.mjs";
  std::istringstream lines(out);
  std::string line;
  std::unordered_set<char32_t> listed;
  int checked = 0, failures = 0;
  while (std::getline(lines, line)) {
    size_t a = line.find(';'), b = line.find(';', a + 1), c = line.find(';', b + 1);
    ASSERT_NE(c, std::string::npos) << line;
    Codepoints in = parseHex(line.substr(0, a));
    Codepoints wantKc = parseHex(line.substr(a + 1, b - a - 1));
    Codepoints wantD = parseHex(line.substr(b + 1, c - b - 1));
    Codepoints wantLower = parseHex(line.substr(c + 1));
    if (in.size() == 1) listed.insert(in[0]);
    checked++;
    if (nfkc(in) != wantKc || nfd(in) != wantD || toLowerJs(in) != wantLower) {
      if (++failures <= 10)
        ADD_FAILURE() << "input " << show(in) << "\n nfkc " << show(nfkc(in)) << " want " << show(wantKc)
                      << "\n nfd " << show(nfd(in)) << " want " << show(wantD) << "\n lower "
                      << show(toLowerJs(in)) << " want " << show(wantLower);
    }
  }
  EXPECT_GT(checked, 30000);
  EXPECT_EQ(failures, 0);
  // every other code point is unchanged by all three
  int unchanged = 0;
  for (char32_t c = 0; c < 0x110000; c++) {
    if ((c >= 0xD800 && c < 0xE000) || listed.count(c)) continue;
    Codepoints one{c};
    if (nfkc(one) != one || nfd(one) != one || toLowerJs(one) != one) {
      ADD_FAILURE() << "U+" << std::hex << unsigned(c) << " should be unchanged";
      if (++unchanged > 10) break;
    }
  }
  EXPECT_EQ(unchanged, 0);
}
