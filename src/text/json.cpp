#include "text/json.h"

#include <cerrno>
#include <cstdlib>

#include "common/error.h"
#include "text/unicode.h"

namespace semcache::text::json {

const Value* Value::find(std::string_view key) const {
  for (size_t i = fields.size(); i-- > 0;)
    if (fields[i].first == key) return &fields[i].second;
  return nullptr;
}

namespace {

struct Parser {
  std::string_view s;
  size_t i = 0;
  const char* code;
  const std::string& what;
  int depth = 0;

  [[noreturn]] void fail(const std::string& msg) {
    throw Error(code, what + ": invalid JSON at byte " + std::to_string(i) + ": " + msg);
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  }
  bool eat(char c) {
    if (i < s.size() && s[i] == c) { i++; return true; }
    return false;
  }
  void expectWord(const char* w) {
    for (const char* p = w; *p; p++)
      if (!eat(*p)) fail(std::string("expected '") + w + "'");
  }
  unsigned hex4() {
    if (i + 4 > s.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }
  std::string string() {
    if (!eat('"')) fail("expected a string");
    std::string out;
    for (;;) {
      if (i >= s.size()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s[i++]);
      if (c == '"') break;
      if (c < 0x20) fail("control character in string");
      if (c != '\\') { out.push_back(char(c)); continue; }
      if (i >= s.size()) fail("unterminated escape");
      char e = s[i++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          char32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
            size_t save = i;
            i += 2;
            unsigned lo = hex4();
            if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else i = save;
          }
          if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
          utf8Append(cp, out);
          break;
        }
        default: fail("bad escape");
      }
    }
    return out;
  }
  void number(Value& v) {
    size_t start = i;
    eat('-');
    if (eat('0')) {
    } else if (i < s.size() && s[i] >= '1' && s[i] <= '9') {
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
    } else {
      fail("bad number");
    }
    bool integral = true;
    if (eat('.')) {
      if (!(i < s.size() && s[i] >= '0' && s[i] <= '9')) fail("bad fraction");
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
      integral = false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      i++;
      if (!eat('+')) eat('-');
      if (!(i < s.size() && s[i] >= '0' && s[i] <= '9')) fail("bad exponent");
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
      integral = false;
    }
    std::string tok(s.substr(start, i - start));  // NUL-terminated copy for strtod
    v.type = Value::Type::Number;
    v.number = std::strtod(tok.c_str(), nullptr);
    if (integral) {
      errno = 0;
      long long n = std::strtoll(tok.c_str(), nullptr, 10);
      if (errno != ERANGE) {  // out of int64 range: only the double is kept
        v.integral = true;
        v.integer = n;
      }
    }
  }
  void value(Value& v) {
    if (++depth > 512) fail("nesting deeper than 512");
    ws();
    if (i >= s.size()) fail("unexpected end of input");
    char c = s[i];
    if (c == '{') {
      i++;
      v.type = Value::Type::Object;
      ws();
      if (!eat('}')) {
        for (;;) {
          ws();
          std::string key = string();
          ws();
          if (!eat(':')) fail("expected ':'");
          v.fields.emplace_back(std::move(key), Value{});
          value(v.fields.back().second);
          ws();
          if (eat(',')) continue;
          if (eat('}')) break;
          fail("expected ',' or '}'");
        }
      }
    } else if (c == '[') {
      i++;
      v.type = Value::Type::Array;
      ws();
      if (!eat(']')) {
        for (;;) {
          v.items.emplace_back();
          value(v.items.back());
          ws();
          if (eat(',')) continue;
          if (eat(']')) break;
          fail("expected ',' or ']'");
        }
      }
    } else if (c == '"') {
      v.type = Value::Type::String;
      v.str = string();
    } else if (c == 't') {
      expectWord("true"); v.type = Value::Type::Bool; v.boolean = true;
    } else if (c == 'f') {
      expectWord("false"); v.type = Value::Type::Bool;
    } else if (c == 'n') {
      expectWord("null");
    } else {
      number(v);
    }
    depth--;
  }
};

}  // namespace

Value parse(std::string_view text, const char* errorCode, const std::string& what) {
  Parser p{text, 0, errorCode, what};
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") p.i = 3;  // tolerate a BOM
  Value v;
  p.value(v);
  p.ws();
  if (p.i != text.size()) p.fail("trailing characters after the JSON value");
  return v;
}

}  // namespace semcache::text::json
