// normalizePrompt: the form the cache embeds. Node's `s.normalize('NFKC').toLowerCase()` with
// quotes and end marks dropped and whitespace runs collapsed is the reference
// (tests/js/normalize.test.ts checks the binding against it on random strings); here, the cases
// that matter to a cache and idempotence.
#include <gtest/gtest.h>

#include <string>

#include "text/normalize.h"

using semcache::text::normalizePrompt;

TEST(NormalizePrompt, FoldsCaseSpacingAndCompatibilityForms) {
  EXPECT_EQ(normalizePrompt("HOW DO I LEARN PYTHON QUICKLY?"), "how do i learn python quickly");
  EXPECT_EQ(normalizePrompt("  How do I\tlearn \n\n Python?  "), "how do i learn python");
  EXPECT_EQ(normalizePrompt("\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C"), "full");         // full-width "ｆｕｌｌ"
  EXPECT_EQ(normalizePrompt("\xEF\xAC\x81nancial"), "financial");                                  // "ﬁ" ligature
  EXPECT_EQ(normalizePrompt("caf\x65\xCC\x81"), "caf\xC3\xA9");                                    // e + U+0301 -> é
  EXPECT_EQ(normalizePrompt("a\xE2\x80\x87" "b\xC2\xA0" "c"), "a b c");                              // figure space, NBSP
  EXPECT_EQ(normalizePrompt("\xCE\x9F\xCE\xA3"), "\xCE\xBF\xCF\x82");                                // "ΟΣ" -> "ος" (final sigma)
  EXPECT_EQ(normalizePrompt(""), "");
  EXPECT_EQ(normalizePrompt(" \t\n "), "");
  EXPECT_EQ(normalizePrompt("ok\xFF"), "ok\xEF\xBF\xBD");                                          // invalid UTF-8 -> U+FFFD
}

TEST(NormalizePrompt, DropsQuotesAndEndMarksOnly) {
  EXPECT_EQ(normalizePrompt("Why is the sky blue ?!"), "why is the sky blue");
  EXPECT_EQ(normalizePrompt("How do you say \"thank you\" in Japanese?"), "how do you say thank you in japanese");
  EXPECT_EQ(normalizePrompt("\xC2\xBF D\xC3\xB3nde est\xC3\xA1? "), "d\xC3\xB3nde est\xC3\xA1");  // ¿Dónde está?
  EXPECT_EQ(normalizePrompt("Is C++ better than C#?"), "is c++ better than c#");                   // symbols stay
  EXPECT_EQ(normalizePrompt("What is 3.5 + 1.5?"), "what is 3.5 + 1.5");                           // inner marks stay
  EXPECT_EQ(normalizePrompt("Hello, world."), "hello, world");
  EXPECT_EQ(normalizePrompt("?!"), "?!");                                                          // only marks: kept
  EXPECT_EQ(normalizePrompt(" \" \" "), "\" \"");
}

TEST(NormalizePrompt, IsIdempotent) {
  for (const char* s : {"What IS   the Capital of FRANCE?", "?!", "\" . \"", "\xC2\xBF\xC2\xA1 a ?", "\xEF\xBC\xA8\xEF\xBD\x85\xEF\xBD\x8C\xEF\xBD\x8C\xEF\xBD\x8F",
                        "\xC4\xB0stanbul", "x\xE2\x80\x87\xE2\x80\x87y", "\xE2\x85\xAB items", "\xCE\x9F\xCE\xA3 \xCE\xA3"}) {
    std::string once = normalizePrompt(s);
    EXPECT_EQ(normalizePrompt(once), once) << s;
  }
}
