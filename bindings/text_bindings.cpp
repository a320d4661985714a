// Embind surface of the tokenizers (see bindings/text.d.ts). Results cross as Int32Array copies
// made in one slice() of a view on wasm memory, never element by element.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <string>
#include <vector>

#include "js_error.h"
#include "text/normalize.h"
#include "text/sentencepiece.h"
#include "text/wordpiece.h"

using emscripten::val;
using semcache::bind::guard;
using semcache::text::Batch;
using semcache::text::SentencePieceTokenizer;
using semcache::text::WordPieceOptions;
using semcache::text::WordPieceTokenizer;

namespace {

val int32Copy(const std::vector<int32_t>& v) {
  return val(emscripten::typed_memory_view(v.size(), v.data())).call<val>("slice");
}

// {ids, mask: Int32Array (rows*cols, row-major), lengths: Int32Array (rows), rows, cols}
val batchToJs(const Batch& b) {
  val out = val::object();
  out.set("ids", int32Copy(b.ids));
  out.set("mask", int32Copy(b.mask));
  out.set("lengths", int32Copy(b.lengths));
  out.set("rows", b.rows);
  out.set("cols", b.cols);
  return out;
}

std::vector<std::string> stringsFromJs(const val& texts) {
  if (!texts.isArray()) throw semcache::Error(semcache::codes::kInvalidArgument, "texts must be an array of strings");
  return emscripten::vecFromJSArray<std::string>(texts);
}

SentencePieceTokenizer* spCreate(const std::string& vocabJson) {
  return guard([&] { return new SentencePieceTokenizer(vocabJson); });
}
val spEncode(const SentencePieceTokenizer& t, const std::string& text, int maxLength) {
  return guard([&] { return int32Copy(t.encode(text, maxLength)); });
}
val spEncodeBatch(const SentencePieceTokenizer& t, const val& texts, int maxLength) {
  return guard([&] { return batchToJs(t.encodeBatch(stringsFromJs(texts), maxLength)); });
}
int spVocabSize(const SentencePieceTokenizer& t) { return t.vocabSize(); }

// tokenizer_config.json files sometimes say model_max_length = 1e30 ("no limit"): clamp to int.
int clampLength(double n) {
  if (!(n > 0)) return 0;
  return n >= 2147483647.0 ? 2147483647 : int(n);
}

WordPieceTokenizer* wpFromTokenizerJson(const std::string& json, double modelMaxLength) {
  return guard([&] {
    return new WordPieceTokenizer(WordPieceTokenizer::fromTokenizerJson(json, clampLength(modelMaxLength)));
  });
}
WordPieceTokenizer* wpFromVocabTxt(const std::string& vocabTxt, bool lowercase, double modelMaxLength) {
  return guard([&] {
    WordPieceOptions o;
    o.lowercase = lowercase;
    o.modelMaxLength = clampLength(modelMaxLength);
    return new WordPieceTokenizer(WordPieceTokenizer::fromVocabTxt(vocabTxt, o));
  });
}
val wpEncode(const WordPieceTokenizer& t, const std::string& text, int maxLength) {
  return guard([&] { return int32Copy(t.encode(text, maxLength)); });
}
val wpEncodeBatch(const WordPieceTokenizer& t, const val& texts, int maxLength) {
  return guard([&] { return batchToJs(t.encodeBatch(stringsFromJs(texts), maxLength)); });
}
int wpVocabSize(const WordPieceTokenizer& t) { return t.vocabSize(); }
int wpModelMaxLength(const WordPieceTokenizer& t) { return t.modelMaxLength(); }
int wpPadId(const WordPieceTokenizer& t) { return t.padId(); }

std::string normalizePrompt(const std::string& text) {
  return guard([&] { return semcache::text::normalizePrompt(text); });
}

}  // namespace

EMSCRIPTEN_BINDINGS(semcache_text) {
  emscripten::function("normalizePrompt", &normalizePrompt);
  emscripten::class_<SentencePieceTokenizer>("SentencePieceTokenizer")
      .constructor(&spCreate, emscripten::allow_raw_pointers())
      .function("encode", &spEncode)
      .function("encodeBatch", &spEncodeBatch)
      .function("vocabSize", &spVocabSize);
  emscripten::class_<WordPieceTokenizer>("WordPieceTokenizer")
      .class_function("fromTokenizerJson", &wpFromTokenizerJson, emscripten::allow_raw_pointers())
      .class_function("fromVocabTxt", &wpFromVocabTxt, emscripten::allow_raw_pointers())
      .function("encode", &wpEncode)
      .function("encodeBatch", &wpEncodeBatch)
      .function("vocabSize", &wpVocabSize)
      .function("modelMaxLength", &wpModelMaxLength)
      .function("padId", &wpPadId);
}
