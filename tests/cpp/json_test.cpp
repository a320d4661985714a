// The core's one JSON parser (text/json.h), used by the tokenizers (vocab.json, tokenizer.json,
// encoder.json) and the GPT-2 loader (safetensors header, config.json). These cases cover what
// both kinds of caller need; the cases of the parser it replaced (common/mini_json) are here too.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "common/error.h"
#include "test_util.h"
#include "text/json.h"

using namespace semcache;
namespace json = semcache::text::json;

namespace {

json::Value parse(std::string_view s) { return json::parse(s, "BAD_JSON", "doc.json"); }

// The error's code and message ("ok" and "" when it parses).
std::pair<std::string, std::string> error_of(std::string_view s) {
  std::string msg;
  std::string code = semcache::testing::codeOf([&] { parse(s); }, &msg);
  return {code, msg};
}

}  // namespace

TEST(Json, ScalarsArraysObjects) {
  json::Value v = parse(R"( {"a": [1, -2.5, true, false, null, "x"], "b": {}, "c": []} )");
  ASSERT_TRUE(v.isObject());
  ASSERT_EQ(v.fields.size(), 3u);
  EXPECT_EQ(v.fields[0].first, "a");  // document order
  EXPECT_EQ(v.fields[2].first, "c");
  const json::Value& a = *v.find("a");
  ASSERT_TRUE(a.isArray());
  ASSERT_EQ(a.items.size(), 6u);
  EXPECT_TRUE(a.items[0].isInteger());
  EXPECT_EQ(a.items[0].integer, 1);
  EXPECT_DOUBLE_EQ(a.items[1].number, -2.5);
  EXPECT_FALSE(a.items[1].isInteger());
  EXPECT_TRUE(a.items[2].isBool() && a.items[2].boolean);
  EXPECT_TRUE(a.items[3].isBool() && !a.items[3].boolean);
  EXPECT_TRUE(a.items[4].isNull());
  EXPECT_EQ(a.items[5].str, "x");
  EXPECT_TRUE(v.find("b")->isObject() && v.find("b")->fields.empty());
  EXPECT_TRUE(v.find("c")->isArray() && v.find("c")->items.empty());
  EXPECT_EQ(v.find("nope"), nullptr);
}

TEST(Json, DuplicateKeysKeepTheLastLikeJsonParse) {
  json::Value v = parse(R"({"k": 1, "k": 2})");
  EXPECT_EQ(v.find("k")->integer, 2);
  EXPECT_EQ(v.fields.size(), 2u);  // both stay in the DOM, in order
}

TEST(Json, StringEscapes) {
  EXPECT_EQ(parse(R"("\" \\ \/ \b \f \n \r \t")").str, "\" \\ / \b \f \n \r \t");
  EXPECT_EQ(parse(R"("\u0041\u00e9\u4e2D")").str, "A\xC3\xA9\xE4\xB8\xAD");  // hex digits in either case
  EXPECT_EQ(parse(R"("\u0000")").str, std::string(1, '\0'));
  // raw UTF-8 passes through unchanged
  EXPECT_EQ(parse("\"\xE2\x82\xAC \xF0\x9F\x98\x80\"").str, "\xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST(Json, SurrogatePairsAndLoneSurrogates) {
  EXPECT_EQ(parse(R"("\ud83d\ude00")").str, "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(parse(R"("\uD834\uDD1E")").str, "\xF0\x9D\x84\x9E");  // U+1D11E
  EXPECT_EQ(parse(R"("\udbff\udfff")").str, "\xF4\x8F\xBF\xBF");  // U+10FFFF
  // a lone surrogate is U+FFFD (what TextEncoder makes of it), so the string is valid UTF-8
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(parse(R"("a\ud800b")").str, "a" + fffd + "b");
  EXPECT_EQ(parse(R"("\udc00")").str, fffd);
  EXPECT_EQ(parse(R"("\ud800")").str, fffd);  // at the end of the string
  // a high surrogate followed by an escape that is not a low one: each stands on its own
  EXPECT_EQ(parse(R"("\ud800\u0041")").str, fffd + "A");
  EXPECT_EQ(parse(R"("\ud800\ud83d\ude00")").str, fffd + "\xF0\x9F\x98\x80");
  EXPECT_EQ(parse(R"("\ud800\n")").str, fffd + "\n");
}

TEST(Json, NumbersAndExactIntegers) {
  json::Value v = parse("[0, -0, 42, -7, 1e3, 2.5E-3, 1.0, 9007199254740993, -9223372036854775808, "
                        "9223372036854775808, 0.1]");
  const auto& n = v.items;
  EXPECT_TRUE(n[0].isInteger() && n[0].integer == 0);
  EXPECT_TRUE(n[1].isInteger() && n[1].integer == 0);
  EXPECT_EQ(n[2].integer, 42);
  EXPECT_EQ(n[3].integer, -7);
  EXPECT_FALSE(n[4].isInteger());  // an exponent makes it a double, as in the safetensors check
  EXPECT_DOUBLE_EQ(n[4].number, 1000);
  EXPECT_DOUBLE_EQ(n[5].number, 0.0025);
  EXPECT_FALSE(n[6].isInteger());  // "1.0" is not an integer id
  // past 2^53 the integer stays exact where the double rounds (safetensors offsets of big files)
  EXPECT_TRUE(n[7].isInteger());
  EXPECT_EQ(n[7].integer, 9007199254740993LL);
  EXPECT_EQ(n[7].number, 9007199254740992.0);
  EXPECT_TRUE(n[8].isInteger());
  EXPECT_EQ(n[8].integer, INT64_MIN);
  EXPECT_FALSE(n[9].isInteger());  // beyond int64: the double only
  EXPECT_DOUBLE_EQ(n[9].number, 9223372036854775808.0);
  EXPECT_EQ(n[10].number, 0.1);  // strtod: correctly rounded like JSON.parse
}

TEST(Json, NumberGrammarIsStrict) {
  for (const char* bad : {"01", "-", "1.", ".5", "+1", "1e", "1e+", "-a", "0x10", "NaN", "Infinity", "1.e3"})
    EXPECT_EQ(error_of(bad).first, "BAD_JSON") << bad;
}

TEST(Json, Nesting) {
  std::string ok(512, '['), deep(513, '[');
  ok += std::string(512, ']');
  deep += std::string(513, ']');
  EXPECT_TRUE(parse(ok).isArray());
  auto [code, msg] = error_of(deep);
  EXPECT_EQ(code, "BAD_JSON");
  EXPECT_NE(msg.find("nesting deeper than 512"), std::string::npos) << msg;
  json::Value v = parse(R"({"a": {"b": [{"c": [[1]]}]}})");
  EXPECT_EQ(v.find("a")->find("b")->items[0].find("c")->items[0].items[0].integer, 1);
}

TEST(Json, ByteOrderMarkAndWhitespace) {
  EXPECT_EQ(parse("\xEF\xBB\xBF {\"a\":1}").find("a")->integer, 1);
  EXPECT_EQ(parse(" \t\r\n[ 1 ,\n2 ] \n").items.size(), 2u);
}

TEST(Json, ErrorsNameTheDocumentThePositionAndWhat) {
  struct Case {
    const char* text;
    size_t byte;
    const char* what;
  };
  const Case cases[] = {
      {"", 0, "unexpected end of input"},
      {"[1, 2", 5, "expected ',' or ']'"},
      {"{\"a\" 1}", 5, "expected ':'"},
      {"{\"a\": 1 \"b\": 2}", 8, "expected ',' or '}'"},
      {"{a: 1}", 1, "expected a string"},
      {"[1,]", 3, "bad number"},
      {"\"abc", 4, "unterminated string"},
      {"\"a\nb\"", 3, "control character in string"},
      {"\"\\x\"", 3, "bad escape"},
      {"\"\\u12zz\"", 6, "bad hex digit in \\u escape"},
      {"\"\\u12", 3, "truncated \\u escape"},
      {"tru", 3, "expected 'true'"},
      {"nul", 3, "expected 'null'"},
      {"[1] x", 4, "trailing characters after the JSON value"},
      {"{} {}", 3, "trailing characters after the JSON value"},
      {"[[\"a\", 0], [\"b\" 1]]", 16, "expected ',' or ']'"},  // the SentencePiece vocab case
  };
  for (const Case& c : cases) {
    auto [code, msg] = error_of(c.text);
    EXPECT_EQ(code, "BAD_JSON") << c.text;
    EXPECT_EQ(msg, "doc.json: invalid JSON at byte " + std::to_string(c.byte) + ": " + c.what) << c.text;
  }
}

TEST(Json, ErrorCodeIsTheCallers) {
  try {
    json::parse("{", "CORRUPT_MODEL", "model.safetensors header");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "CORRUPT_MODEL");
    EXPECT_EQ(std::string(e.what()).rfind("model.safetensors header: invalid JSON at byte", 0), 0u) << e.what();
  }
}
