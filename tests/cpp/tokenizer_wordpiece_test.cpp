#include <gtest/gtest.h>

#include "common/error.h"
#include "test_util.h"
#include "text/wordpiece.h"

using semcache::Error;
using semcache::testing::codeOf;
using semcache::testing::readFile;
using semcache::text::WordPieceOptions;
using semcache::text::WordPieceTokenizer;
using Ids = std::vector<int32_t>;

namespace {

const std::string kDir = SEMCACHE_SHARED_DIR "/tokenizers/all-MiniLM-L6-v2/";

const WordPieceTokenizer& mini() {
  static WordPieceTokenizer t = WordPieceTokenizer::fromTokenizerJson(readFile(kDir + "tokenizer.json"), 512);
  return t;
}

std::string errorCode(const std::string& json) {
  return codeOf([&] { WordPieceTokenizer::fromTokenizerJson(json); });
}

}  // namespace

// Expected ids: @huggingface/transformers 3.8.1 on the same tokenizer.json.
TEST(WordPiece, MatchesReferenceOnBasicCases) {
  const auto& t = mini();
  EXPECT_EQ(t.vocabSize(), 30522);
  EXPECT_EQ(t.encode("Hello, World!"), (Ids{101, 7592, 1010, 2088, 999, 102}));
  EXPECT_EQ(t.encode("unaffable"), (Ids{101, 14477, 20961, 3468, 102}));  // "##" continuations
  // accents stripped, final sigma lower-cased to ς then matched
  EXPECT_EQ(t.encode("na\xC3\xAFve caf\xC3\xA9 \xCE\xA3\xCE\x91\xCE\xA3"), (Ids{101, 15743, 7668, 1173, 14608, 19579, 102}));
  EXPECT_EQ(t.encode("\xE4\xB8\xAD\xE6\x96\x87\xE5\xAD\x97"), (Ids{101, 1746, 1861, 100, 102}));  // CJK split
  EXPECT_EQ(t.encode("a[SEP]b"), (Ids{101, 1037, 102, 1038, 102}));  // added token in the text
  EXPECT_EQ(t.encode("tab\there\x01\x7f"), (Ids{101, 21628, 2182, 102}));  // controls dropped
}

TEST(WordPiece, EmptyInputIsClsSep) {
  EXPECT_EQ(mini().encode(""), (Ids{101, 102}));
  EXPECT_EQ(mini().encode(" \t\n"), (Ids{101, 102}));
}

TEST(WordPiece, OverlongWordIsUnknown) {
  EXPECT_EQ(mini().encode(std::string(101, 'a')), (Ids{101, 100, 102}));
  // 100 chars is still a word: "aaa" ##aa x48 ##a (reference ids)
  Ids hundred = mini().encode(std::string(100, 'a'));
  ASSERT_EQ(hundred.size(), 52u);
  EXPECT_EQ(hundred[1], 13360);
  EXPECT_EQ(hundred[2], 11057);
  EXPECT_EQ(hundred[50], 2050);
}

TEST(WordPiece, TruncatesWholeRowLikeTransformersJs) {
  const auto& t = mini();
  EXPECT_EQ(t.encode("Hello, World!", 3), (Ids{101, 7592, 1010}));  // no [SEP] after the cut
  std::string longText;
  for (int i = 0; i < 600; i++) longText += "word ";
  EXPECT_EQ(t.encode(longText).size(), 512u);       // capped at model_max_length
  EXPECT_EQ(t.encode(longText, 1000).size(), 512u);  // even when asked for more
  EXPECT_EQ(t.encode(longText, 128).size(), 128u);
  EXPECT_THROW(t.encode("x", -1), Error);
}

TEST(WordPiece, InvalidUtf8IsDroppedAsReplacementChar) {
  // U+FFFD from invalid bytes is removed by BertNormalizer's clean_text
  EXPECT_EQ(mini().encode("Hello\xFF\xC3, World!"), mini().encode("Hello, World!"));
}

TEST(WordPiece, VocabTxtGivesSameIds) {
  WordPieceOptions o;
  auto t = WordPieceTokenizer::fromVocabTxt(readFile(kDir + "vocab.txt"), o);
  for (const char* s : {"Hello, World!", "unaffable", "a[SEP]b", "na\xC3\xAFve caf\xC3\xA9", ""})
    EXPECT_EQ(t.encode(s), mini().encode(s)) << s;
}

TEST(WordPiece, BatchPadsWithPadId) {
  auto b = mini().encodeBatch({"Hello, World!", ""});
  EXPECT_EQ(b.cols, 6);
  EXPECT_EQ(b.lengths, (Ids{6, 2}));
  EXPECT_EQ(b.ids, (Ids{101, 7592, 1010, 2088, 999, 102, 101, 102, 0, 0, 0, 0}));
  EXPECT_EQ(b.mask, (Ids{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}));
}

TEST(WordPiece, MalformedTokenizerJsonIsRejected) {
  EXPECT_EQ(errorCode("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}"), "INVALID_VOCAB");  // truncated
  EXPECT_EQ(errorCode("[]"), "INVALID_VOCAB");
  EXPECT_EQ(errorCode("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}"), "INVALID_VOCAB");
  EXPECT_EQ(errorCode("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}, "
                      "\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}"),
            "INVALID_VOCAB");  // no [UNK] in vocab
  EXPECT_EQ(errorCode("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": -1}}}"), "INVALID_VOCAB");
  try {
    WordPieceTokenizer::fromTokenizerJson("{\"model\": {\"type\": \"Unigram\", \"vocab\": {}}}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("WordPiece"), std::string::npos) << e.what();
  }
  EXPECT_THROW(WordPieceTokenizer::fromVocabTxt("", WordPieceOptions{}), Error);
}
