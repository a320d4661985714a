#include "text/wordpiece.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "text/json.h"
#include "text/unicode.h"

namespace semcache::text {

namespace {

[[noreturn]] void bad(const std::string& msg) { throw Error(kInvalidVocab, "tokenizer.json: " + msg); }

const json::Value* field(const json::Value& obj, const char* key) {
  return obj.isObject() ? obj.find(key) : nullptr;
}

std::string stringField(const json::Value& obj, const char* key, const std::string& fallback) {
  const json::Value* v = field(obj, key);
  if (!v || v->isNull()) return fallback;
  if (!v->isString()) bad(std::string("'") + key + "' must be a string");
  return v->str;
}

bool boolField(const json::Value& obj, const char* key, bool fallback) {
  const json::Value* v = field(obj, key);
  if (!v || v->isNull()) return fallback;
  if (!v->isBool()) bad(std::string("'") + key + "' must be a boolean");
  return v->boolean;
}

int32_t intOf(const json::Value& v, const std::string& what) {
  if (!v.isNumber() || v.number != std::floor(v.number) || v.number < 0 || v.number > 2147483647.0)
    bad(what + " must be a non-negative integer");
  return int32_t(v.number);
}

bool isBmpCjk(char32_t cp) {  // transformers.js is_chinese_char, reachable by UTF-16 units
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0xF900 && cp <= 0xFAFF);
}

void trimJsSpace(Codepoints& s, bool front, bool back) {
  size_t b = 0, e = s.size();
  if (front) while (b < e && isJsSpace(s[b])) b++;
  if (back) while (e > b && isJsSpace(s[e - 1])) e--;
  s = Codepoints(s.begin() + long(b), s.begin() + long(e));
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::fromTokenizerJson(std::string_view text, int modelMaxLength) {
  json::Value doc = json::parse(text, kInvalidVocab, "tokenizer.json");
  if (!doc.isObject()) bad("expected a JSON object");
  const json::Value* model = field(doc, "model");
  if (!model || !model->isObject()) bad("missing 'model'");
  if (stringField(*model, "type", "") != "WordPiece")
    bad("model.type is '" + stringField(*model, "type", "") + "', expected 'WordPiece'");
  const json::Value* vocab = field(*model, "vocab");
  if (!vocab || !vocab->isObject() || vocab->fields.empty()) bad("model.vocab must be a non-empty object");

  WordPieceTokenizer t;
  WordPieceOptions& o = t.opts_;
  o.modelMaxLength = modelMaxLength;
  o.unkToken = stringField(*model, "unk_token", "[UNK]");
  o.prefix = stringField(*model, "continuing_subword_prefix", "##");
  if (const json::Value* m = field(*model, "max_input_chars_per_word"); m && !m->isNull())
    o.maxInputCharsPerWord = intOf(*m, "model.max_input_chars_per_word");
  for (const auto& [tok, id] : vocab->fields) t.vocab_.set(tok, intOf(id, "model.vocab['" + tok + "']"));

  const json::Value* norm = field(doc, "normalizer");
  if (norm && !norm->isNull()) {
    if (stringField(*norm, "type", "") != "BertNormalizer")
      bad("normalizer '" + stringField(*norm, "type", "") + "' is not supported (only BertNormalizer)");
    o.cleanText = boolField(*norm, "clean_text", true);
    o.handleChineseChars = boolField(*norm, "handle_chinese_chars", true);
    o.lowercase = boolField(*norm, "lowercase", true);
    const json::Value* sa = field(*norm, "strip_accents");
    if (sa && !sa->isNull() && !sa->isBool()) bad("normalizer.strip_accents must be a boolean or null");
    o.stripAccents = (!sa || sa->isNull()) ? -1 : int(sa->boolean);
  } else {
    o.cleanText = o.handleChineseChars = o.lowercase = false;
    o.stripAccents = 0;
  }
  const json::Value* pre = field(doc, "pre_tokenizer");
  if (!pre || pre->isNull() || stringField(*pre, "type", "") != "BertPreTokenizer")
    bad("pre_tokenizer must be BertPreTokenizer");

  const json::Value* added = field(doc, "added_tokens");
  if (added && !added->isNull()) {
    if (!added->isArray()) bad("'added_tokens' must be an array");
    for (const json::Value& a : added->items) {
      const json::Value* content = field(a, "content");
      const json::Value* id = field(a, "id");
      if (!content || !content->isString() || content->str.empty() || !id) bad("added token without content/id");
      int32_t tid = intOf(*id, "added token id");
      t.vocab_.set(content->str, tid);
      t.added_.push_back(content->str);
      t.addedIds_.push_back(tid);
      t.addedStrip_.push_back({boolField(a, "lstrip", false), boolField(a, "rstrip", false)});
    }
  }

  // Post-processor: the single-sequence template's special tokens before / after the text.
  auto special = [&](const std::string& tok) {
    int32_t id = t.vocab_.get(tok);
    if (id < 0) id = t.vocab_.get(o.unkToken);
    return id;
  };
  const json::Value* post = field(doc, "post_processor");
  if (post && !post->isNull()) {
    std::string type = stringField(*post, "type", "");
    if (type == "TemplateProcessing") {
      const json::Value* single = field(*post, "single");
      if (!single || !single->isArray()) bad("TemplateProcessing without a 'single' template");
      bool seenSeq = false;
      for (const json::Value& item : single->items) {
        if (const json::Value* sp = field(item, "SpecialToken")) {
          (seenSeq ? t.suffix_ : t.prefix_).push_back(special(stringField(*sp, "id", "")));
        } else if (field(item, "Sequence")) {
          seenSeq = true;
        } else {
          bad("unknown TemplateProcessing item");
        }
      }
    } else if (type == "BertProcessing") {
      const json::Value* cls = field(*post, "cls");
      const json::Value* sep = field(*post, "sep");
      if (!cls || !sep || !cls->isArray() || !sep->isArray() || cls->items.empty() || sep->items.empty() ||
          !cls->items[0].isString() || !sep->items[0].isString())
        bad("BertProcessing needs cls and sep");
      t.prefix_.push_back(special(cls->items[0].str));
      t.suffix_.push_back(special(sep->items[0].str));
    } else {
      bad("post_processor '" + type + "' is not supported");
    }
  }
  t.finish();
  return t;
}

WordPieceTokenizer WordPieceTokenizer::fromVocabTxt(std::string_view text, const WordPieceOptions& opts) {
  WordPieceTokenizer t;
  t.opts_ = opts;
  int32_t id = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    t.vocab_.set(line, id++);
    pos = nl + 1;
  }
  if (id == 0) throw Error(kInvalidVocab, "vocab.txt is empty");
  for (const std::string& tok : {opts.padToken, opts.unkToken, opts.clsToken, opts.sepToken, std::string("[MASK]")}) {
    int32_t tid = t.vocab_.get(tok);
    if (tid < 0) continue;
    t.added_.push_back(tok);
    t.addedIds_.push_back(tid);
    t.addedStrip_.push_back({false, false});
  }
  int32_t cls = t.vocab_.get(opts.clsToken), sep = t.vocab_.get(opts.sepToken);
  if (cls < 0 || sep < 0) throw Error(kInvalidVocab, "vocab.txt lacks '" + opts.clsToken + "' or '" + opts.sepToken + "'");
  t.prefix_ = {cls};
  t.suffix_ = {sep};
  t.finish();
  return t;
}

void WordPieceTokenizer::finish() {
  unkId_ = vocab_.get(opts_.unkToken);
  if (unkId_ < 0) throw Error(kInvalidVocab, "WordPiece vocab has no unknown token '" + opts_.unkToken + "'");
  padId_ = std::max(0, vocab_.get(opts_.padToken));
  for (const std::string& a : added_) {
    addedCps_.emplace_back();
    utf8Decode(a, addedCps_.back());
  }
}

// w is one pre-tokenized word, (n,) code points.
void WordPieceTokenizer::wordPiece(const char32_t* w, size_t n, std::vector<int32_t>& ids) const {
  if (n > size_t(opts_.maxInputCharsPerWord)) { ids.push_back(unkId_); return; }
  std::string bytes;
  std::vector<size_t> off(n + 1, 0);  // byte offset of each code point
  for (size_t i = 0; i < n; i++) { off[i] = bytes.size(); utf8Append(w[i], bytes); }
  off[n] = bytes.size();
  size_t mark = ids.size();
  std::string scratch = opts_.prefix;
  size_t start = 0;
  while (start < n) {
    int32_t found = -1;
    size_t end = n;
    for (; end > start; end--) {
      std::string_view sub(bytes.data() + off[start], off[end] - off[start]);
      if (start > 0) {
        scratch.resize(opts_.prefix.size());
        scratch.append(sub);
        found = vocab_.get(scratch);
      } else {
        found = vocab_.get(sub);
      }
      if (found >= 0) break;
    }
    if (found < 0) { ids.resize(mark); ids.push_back(unkId_); return; }
    ids.push_back(found);
    start = end;
  }
}

void WordPieceTokenizer::encodeSection(const Codepoints& in, std::vector<int32_t>& ids) const {
  // BertNormalizer; x is (n,) code points
  Codepoints x;
  x.reserve(in.size() + 8);
  for (char32_t cp : in) {
    if (opts_.cleanText) {
      if (cp == 0 || cp == 0xFFFD || (cp != '\t' && cp != '\n' && cp != '\r' && inBertControl(cp))) continue;
      if (isJsSpace(cp)) cp = ' ';
    }
    if (opts_.handleChineseChars && isBmpCjk(cp)) {
      x.push_back(' '); x.push_back(cp); x.push_back(' ');
    } else {
      x.push_back(cp);
    }
  }
  bool strip = opts_.lowercase ? opts_.stripAccents != 0 : opts_.stripAccents == 1;
  if (opts_.lowercase) x = toLowerJs(x);
  if (strip) {
    x = nfd(x);
    size_t w = 0;
    for (char32_t cp : x)
      if (!inMn(cp)) x[w++] = cp;
    x.resize(w);
  }
  // BertPreTokenizer, then WordPiece per word
  size_t wordStart = 0;
  for (size_t i = 0; i <= x.size(); i++) {
    bool end = i == x.size();
    bool space = !end && isJsSpace(x[i]);
    bool punct = !end && !space && isBertPunct(x[i]);
    if (end || space || punct) {
      if (i > wordStart) wordPiece(x.data() + wordStart, i - wordStart, ids);
      if (punct) wordPiece(x.data() + i, 1, ids);
      wordStart = i + 1;
    }
  }
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text, int maxLength) const {
  if (maxLength < 0) throw Error(codes::kInvalidArgument, "WordPiece: maxLength must be >= 0");
  Codepoints cps;
  utf8Decode(text, cps);
  // Split on added tokens (longest match at each position), keeping which section is a token.
  std::vector<Codepoints> sections;
  std::vector<int> sectionToken;  // index into added_, or -1
  size_t start = 0, i = 0;
  while (i < cps.size()) {
    int match = -1;
    size_t matchLen = 0;
    for (size_t a = 0; a < addedCps_.size(); a++) {
      const Codepoints& tok = addedCps_[a];
      if (tok.size() > matchLen && i + tok.size() <= cps.size() &&
          std::equal(tok.begin(), tok.end(), cps.begin() + long(i))) {
        match = int(a);
        matchLen = tok.size();
      }
    }
    if (match < 0) { i++; continue; }
    if (i > start) { sections.emplace_back(cps.begin() + long(start), cps.begin() + long(i)); sectionToken.push_back(-1); }
    sections.push_back(addedCps_[size_t(match)]);
    sectionToken.push_back(match);
    i += matchLen;
    start = i;
  }
  if (start < cps.size()) { sections.emplace_back(cps.begin() + long(start), cps.end()); sectionToken.push_back(-1); }
  for (size_t s = 0; s < sections.size(); s++) {
    int a = sectionToken[s];
    if (a < 0) continue;
    if (addedStrip_[size_t(a)].first && s > 0 && sectionToken[s - 1] < 0) trimJsSpace(sections[s - 1], false, true);
    if (addedStrip_[size_t(a)].second && s + 1 < sections.size() && sectionToken[s + 1] < 0)
      trimJsSpace(sections[s + 1], true, false);
  }

  std::vector<int32_t> ids(prefix_);
  for (size_t s = 0; s < sections.size(); s++) {
    if (sectionToken[s] >= 0) ids.push_back(addedIds_[size_t(sectionToken[s])]);
    else if (!sections[s].empty()) encodeSection(sections[s], ids);
  }
  ids.insert(ids.end(), suffix_.begin(), suffix_.end());
  size_t cap = size_t(opts_.modelMaxLength > 0 ? opts_.modelMaxLength : INT32_MAX);
  if (maxLength > 0) cap = std::min(cap, size_t(maxLength));
  if (ids.size() > cap) ids.resize(cap);
  return ids;
}

Batch WordPieceTokenizer::encodeBatch(const std::vector<std::string>& texts, int maxLength) const {
  std::vector<std::vector<int32_t>> rows;
  rows.reserve(texts.size());
  for (const auto& t : texts) rows.push_back(encode(t, maxLength));
  return padBatch(rows, padId_);
}

}  // namespace semcache::text
