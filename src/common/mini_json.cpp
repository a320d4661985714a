#include "common/mini_json.h"

#include <cstdlib>
#include <cstring>

#include "common/error.h"

namespace semcache::json {

const Value* Value::find(std::string_view key) const {
  for (const auto& kv : object)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

namespace {

struct Parser {
  std::string_view s;
  size_t i = 0;
  const char* doc;
  const char* code;
  int depth = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(code, std::string(doc) + ": invalid JSON at byte " + std::to_string(i) + ": " + what);
  }
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  }
  char peek() {
    ws();
    if (i >= s.size()) fail("unexpected end of document");
    return s[i];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    i++;
  }
  void literal(const char* lit) {
    size_t n = std::strlen(lit);
    if (s.substr(i, n) != lit) fail(std::string("expected ") + lit);
    i += n;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  uint32_t hex4() {
    if (i + 4 > s.size()) fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
      char c = s[i++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else fail("bad hex digit in \\u escape");
    }
    return v;
  }

  std::string str() {
    expect('"');
    std::string out;
    while (true) {
      if (i >= s.size()) fail("unterminated string");
      unsigned char c = (unsigned char)s[i++];
      if (c == '"') break;
      if (c < 0x20) fail("control character in string");
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (i >= s.size()) fail("unterminated escape");
      char e = s[i++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') {
            size_t save = i;
            i += 2;
            uint32_t lo = hex4();
            if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            else i = save;  // lone high surrogate: kept as its own (WTF-8) code point
          }
          put_utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
    return out;
  }

  void number(Value& v) {
    size_t start = i;
    if (i < s.size() && s[i] == '-') i++;
    auto digits = [&] {
      size_t d = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
      if (i == d) fail("expected digit");
    };
    digits();
    bool integral = true;
    if (i < s.size() && s[i] == '.') {
      i++;
      digits();
      integral = false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      i++;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
      digits();
      integral = false;
    }
    std::string lit(s.substr(start, i - start));
    v.type = Value::Type::Number;
    v.number = std::strtod(lit.c_str(), nullptr);
    if (integral && lit.size() <= 18) {
      v.is_integer = true;
      v.integer = std::strtoll(lit.c_str(), nullptr, 10);
    }
  }

  Value value() {
    if (++depth > 64) fail("nesting deeper than 64");
    Value v;
    char c = peek();
    if (c == '{') {
      i++;
      v.type = Value::Type::Object;
      if (peek() == '}') {
        i++;
      } else {
        while (true) {
          if (peek() != '"') fail("expected a string key");
          std::string k = str();
          expect(':');
          v.object.emplace_back(std::move(k), value());
          char d = peek();
          i++;
          if (d == '}') break;
          if (d != ',') fail("expected ',' or '}'");
        }
      }
    } else if (c == '[') {
      i++;
      v.type = Value::Type::Array;
      if (peek() == ']') {
        i++;
      } else {
        while (true) {
          v.array.push_back(value());
          char d = peek();
          i++;
          if (d == ']') break;
          if (d != ',') fail("expected ',' or ']'");
        }
      }
    } else if (c == '"') {
      v.type = Value::Type::String;
      v.string = str();
    } else if (c == 't') {
      literal("true");
      v.type = Value::Type::Bool;
      v.boolean = true;
    } else if (c == 'f') {
      literal("false");
      v.type = Value::Type::Bool;
    } else if (c == 'n') {
      literal("null");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      number(v);
    } else {
      fail(std::string("unexpected character '") + c + "'");
    }
    depth--;
    return v;
  }
};

}  // namespace

Value parse(std::string_view text, const char* doc, const char* error_code) {
  Parser p{text, 0, doc, error_code};
  Value v = p.value();
  p.ws();
  if (p.i != text.size()) p.fail("trailing characters after the document");
  return v;
}

}  // namespace semcache::json
