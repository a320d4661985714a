// normalizePrompt: the form the cache embeds. Node's `s.normalize('NFKC').toLowerCase()` with
// whitespace runs collapsed is the reference (tests/js/normalize.test.ts checks the binding
// against it on random strings); here, the cases that matter to a cache and idempotence.
#include <gtest/gtest.h>

#include <string>

#include "text/normalize.h"

using semcache::text::normalizePrompt;

TEST(NormalizePrompt, FoldsCaseSpacingAndCompatibilityForms) {
  EXPECT_EQ(normalizePrompt("HOW DO I LEARN PYTHON QUICKLY?"), "how do i learn python quickly?");
  EXPECT_EQ(normalizePrompt("  How do I\tlearn \n\n Python?  "), "how do i learn python?");
  EXPECT_EQ(normalizePrompt("\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C"), "full");         // full-width "ｆｕｌｌ"
  EXPECT_EQ(normalizePrompt("\xEF\xAC\x81nancial"), "financial");                                  // "ﬁ" ligature
  EXPECT_EQ(normalizePrompt("caf\x65\xCC\x81"), "caf\xC3\xA9");                                    // e + U+0301 -> é
  EXPECT_EQ(normalizePrompt("a\xE2\x80\x87" "b\xC2\xA0" "c"), "a b c");                              // figure space, NBSP
  EXPECT_EQ(normalizePrompt("\xCE\x9F\xCE\xA3"), "\xCE\xBF\xCF\x82");                                // "ΟΣ" -> "ος" (final sigma)
  EXPECT_EQ(normalizePrompt(""), "");
  EXPECT_EQ(normalizePrompt(" \t\n "), "");
  EXPECT_EQ(normalizePrompt("ok\xFF"), "ok\xEF\xBF\xBD");                                          // invalid UTF-8 -> U+FFFD
}

TEST(NormalizePrompt, IsIdempotent) {
  for (const char* s : {"What IS   the Capital of FRANCE?", "\xEF\xBC\xA8\xEF\xBD\x85\xEF\xBD\x8C\xEF\xBD\x8C\xEF\xBD\x8F",
                        "\xC4\xB0stanbul", "x\xE2\x80\x87\xE2\x80\x87y", "\xE2\x85\xAB items", "\xCE\x9F\xCE\xA3 \xCE\xA3"}) {
    std::string once = normalizePrompt(s);
    EXPECT_EQ(normalizePrompt(once), once) << s;
  }
}
