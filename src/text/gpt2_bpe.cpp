#include "text/gpt2_bpe.h"

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "text/json.h"
#include "text/unicode.h"

namespace semcache::text {

namespace {

struct CodepointRange {
  uint32_t lo, hi;
};
#include "text/gpt2_unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodepointRange (&r)[N], uint32_t cp) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp > r[mid].hi) lo = mid + 1;
    else if (cp < r[mid].lo) hi = mid;
    else return true;
  }
  return false;
}

bool is_letter(uint32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(kLetterRanges, cp);
}
bool is_number(uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(kNumberRanges, cp);
}
// JavaScript's \s: WhiteSpace and LineTerminator
bool is_space(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}
bool is_other(uint32_t cp) { return !is_space(cp) && !is_letter(cp) && !is_number(cp); }

// The text module's UTF-8 decoder (text/unicode.h), as a value.
Codepoints decode_utf8(std::string_view s, bool surrogate_as_one) {
  Codepoints cps;
  utf8Decode(s, cps, surrogate_as_one);
  return cps;
}

// Length (in code points) of the regex match starting at i; never 0 for i < n.
size_t match_at(const Codepoints& c, size_t i) {
  const size_t n = c.size();
  // 's|'t|'re|'ve|'m|'ll|'d
  if (c[i] == '\'' && i + 1 < n) {
    uint32_t a = c[i + 1], b = i + 2 < n ? c[i + 2] : 0;
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  //  ?\p{L}+ |  ?\p{N}+ |  ?[^\s\p{L}\p{N}]+
  for (auto cls : {is_letter, is_number, is_other}) {
    size_t j = i;
    if (c[j] == ' ' && j + 1 < n && cls(c[j + 1])) j++;
    if (!cls(c[j])) continue;
    while (j < n && cls(c[j])) j++;
    return j - i;
  }
  // \s+(?!\S) | \s+
  size_t j = i;
  while (j < n && is_space(c[j])) j++;
  size_t run = j - i;
  if (j == n || run == 1) return run;  // at the end, or a single space before text (second branch)
  return run - 1;                      // leave the last space to join the following word
}

}  // namespace

std::string utf8_sanitize(std::string_view bytes) {
  Codepoints cps = decode_utf8(bytes, false);
  return utf8Encode(cps.data(), cps.size());
}

Gpt2Bpe::Gpt2Bpe(std::string_view encoder_json, std::string_view vocab_bpe) {
  const char* C = codes::kCorruptModel;
  // bytes_to_unicode: printable bytes map to themselves, the rest to 256 + k in byte order
  uint32_t byte_cp[256];
  int extra = 0;
  for (int b = 0; b < 256; b++) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    byte_cp[b] = printable ? uint32_t(b) : uint32_t(256 + extra++);
    utf8Append(byte_cp[b], byte_sym_[b]);
  }
  std::unordered_map<uint32_t, uint8_t> cp_byte;
  for (int b = 0; b < 256; b++) cp_byte[byte_cp[b]] = uint8_t(b);

  json::Value enc = json::parse(encoder_json, C, "encoder.json");
  if (!enc.isObject() || enc.fields.empty()) throw Error(C, "encoder.json: expected a non-empty object of token -> id");
  id_to_bytes_.assign(enc.fields.size(), std::string());
  std::vector<bool> seen(enc.fields.size(), false);
  encoder_.reserve(enc.fields.size() * 2);
  for (auto& [tok, v] : enc.fields) {
    if (!v.isInteger() || v.integer < 0 || v.integer >= int64_t(enc.fields.size()))
      throw Error(C, "encoder.json: id of \"" + tok + "\" is not an integer in [0, " +
                         std::to_string(enc.fields.size()) + ")");
    int id = int(v.integer);
    if (seen[id]) throw Error(C, "encoder.json: id " + std::to_string(id) + " is used twice");
    seen[id] = true;
    std::string raw;
    for (uint32_t cp : decode_utf8(tok, false)) {
      auto it = cp_byte.find(cp);
      if (it == cp_byte.end()) throw Error(C, "encoder.json: token \"" + tok + "\" has a character outside the byte alphabet");
      raw += char(it->second);
    }
    id_to_bytes_[id] = std::move(raw);
    encoder_[tok] = id;
  }

  // merges: lines 1 .. n-2 of vocab.bpe split on "\n" (the first is the version, the last the empty
  // string after the final newline), each "first second"
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i <= vocab_bpe.size(); i++)
    if (i == vocab_bpe.size() || vocab_bpe[i] == '\n') {
      lines.push_back(vocab_bpe.substr(start, i - start));
      start = i + 1;
    }
  if (lines.size() < 2 || lines[0].substr(0, 8) != "#version")
    throw Error(C, "vocab.bpe: expected a \"#version\" first line followed by merges");
  ranks_.reserve(lines.size() * 2);
  for (size_t k = 1; k + 1 < lines.size(); k++) {
    std::string_view l = lines[k];
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    size_t sp = l.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp + 1 >= l.size() || l.find(' ', sp + 1) != std::string_view::npos)
      throw Error(C, "vocab.bpe: line " + std::to_string(k + 1) + " is not \"first second\"");
    std::string key(l.substr(0, sp));
    key += ',';
    key += l.substr(sp + 1);
    ranks_[key] = int(k - 1);  // a repeated key keeps the later rank, as the JS object does
  }
}

std::vector<std::string> Gpt2Bpe::pretokenize(std::string_view text) const {
  Codepoints cps = decode_utf8(text, true);
  std::vector<std::string> out;
  for (size_t i = 0; i < cps.size();) {
    size_t len = match_at(cps, i);
    out.push_back(utf8Encode(cps.data() + i, len));
    i += len;
  }
  return out;
}

void Gpt2Bpe::bpe(const std::string& piece, std::vector<int>& out) const {
  if (auto it = cache_.find(piece); it != cache_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  std::vector<std::string> word;
  for (unsigned char b : piece) word.push_back(byte_sym_[b]);
  std::string key;
  while (word.size() > 1) {
    // the lowest-ranked adjacent pair; among equal ranks the last one (gpt-3-encoder's minPairs)
    int best = std::numeric_limits<int>::max();
    size_t best_i = 0;
    for (size_t i = 0; i + 1 < word.size(); i++) {
      key = word[i];
      key += ',';
      key += word[i + 1];
      auto it = ranks_.find(key);
      if (it != ranks_.end() && it->second <= best) {
        best = it->second;
        best_i = i;
      }
    }
    if (best == std::numeric_limits<int>::max()) break;
    const std::string first = word[best_i], second = word[best_i + 1];
    std::vector<std::string> merged;
    merged.reserve(word.size());
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
        merged.push_back(first + second);
        i += 2;
      } else {
        merged.push_back(word[i]);
        i++;
      }
    }
    word.swap(merged);
  }
  std::vector<int> ids;
  for (const std::string& sym : word) {
    auto it = encoder_.find(sym);
    if (it != encoder_.end()) {
      ids.push_back(it->second);
    } else {
      // only reachable through a "first,second" key collision (gpt-3-encoder returns undefined
      // there): fall back to the symbol's bytes, each of which is a token
      for (uint32_t cp : decode_utf8(sym, false)) {
        std::string one;
        utf8Append(cp, one);
        ids.push_back(encoder_.at(one));
      }
    }
  }
  if (cache_.size() > 50000) cache_.clear();
  cache_.emplace(piece, ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

std::vector<int> Gpt2Bpe::encode(std::string_view text) const {
  std::vector<int> out;
  for (const std::string& piece : pretokenize(text)) bpe(piece, out);
  return out;
}

std::string Gpt2Bpe::decode_bytes(const int* ids, size_t n) const {
  std::string out;
  for (size_t i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= int(id_to_bytes_.size()))
      throw Error(codes::kInvalidArgument, "token id " + std::to_string(ids[i]) + " is outside [0, " +
                                               std::to_string(id_to_bytes_.size()) + ")");
    out += id_to_bytes_[ids[i]];
  }
  return out;
}

std::string Gpt2Bpe::decode(const int* ids, size_t n) const {
  std::string s = utf8_sanitize(decode_bytes(ids, n));
  // TextDecoder (ignoreBOM false) drops a leading byte order mark
  if (s.compare(0, 3, "\xEF\xBB\xBF") == 0) s.erase(0, 3);
  return s;
}

}  // namespace semcache::text
