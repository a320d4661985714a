#include "cache/signature.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>

#include "cache/gazetteer.h"
#include "common/error.h"
#include "common/hash.h"

namespace semcache {
namespace {

// Byte-level: ASCII letters/digits and every non-ASCII byte (UTF-8 sequences stay whole) are
// word characters; only ASCII is case-folded. Cheap (no Unicode tables) and deterministic.
bool wordByte(uint8_t c) { return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || c >= 0x80; }
bool digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }

uint32_t h32(std::string_view s) { return uint32_t(xxh64(s, 0x5eed)); }

template <size_t N>
bool among(std::string_view w, const std::string_view (&set)[N]) {
  return std::find(set, set + N, w) != set + N;
}

constexpr std::string_view kStop[] = {
    "a", "an", "the", "and", "or", "but", "if", "then", "so", "of", "to", "in", "on", "at", "by",
    "for", "with", "from", "into", "about", "as", "is", "are", "was", "were", "be", "been", "being",
    "am", "do", "does", "did", "doing", "have", "has", "had", "having", "i", "me", "my", "mine",
    "we", "our", "us", "you", "your", "he", "him", "his", "she", "her", "it", "its", "they",
    "them", "their", "this", "that", "these", "those", "there", "here", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "can", "could", "will", "would", "shall",
    "should", "may", "might", "must", "some", "any", "all", "each", "every", "more", "most",
    "much", "many", "very", "too", "also", "just", "than", "such", "s", "t", "d", "ll", "ve",
    "re", "m", "get", "got", "one", "ones", "someone", "something", "anyone", "anything",
    "way", "ways", "really", "possible", "like", "using", "use", "else", "ever",
};
constexpr std::string_view kNegations[] = {
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot",
    "nowhere", "dont", "cant",
};
// Antonym pairs: [2k] and [2k+1] are the two sides of pair k.
constexpr std::string_view kPolarity[] = {
    "good", "bad", "best", "worst", "better", "worse", "pros", "cons", "advantage", "disadvantage",
    "increase", "decrease", "rich", "poor", "positive", "negative", "true", "false", "right",
    "wrong", "legal", "illegal", "safe", "dangerous", "healthy", "unhealthy", "easy", "hard",
    "cheap", "expensive", "fast", "slow", "high", "low", "big", "small", "before", "after",
    "start", "stop", "win", "lose", "buy", "sell", "love", "hate", "up", "down", "old", "new",
    "young", "old", "male", "female", "men", "women", "boy", "girl", "hot", "cold", "happy", "sad",
    "first", "last", "cheaper", "expensive", "quickly", "slowly", "faster", "slower", "start", "end",
    "begin", "end", "beginning", "end", "maximum", "minimum", "max", "min", "higher", "lower",
    "bigger", "smaller", "larger", "smaller", "large", "small", "long", "short", "longer", "shorter",
    "heavy", "light", "strong", "weak", "stronger", "weaker", "early", "late", "earlier", "later",
    "open", "close", "import", "export", "upload", "download", "arrive", "leave", "add", "remove",
    "include", "exclude", "increase", "reduce", "gain", "lose", "success", "failure", "pass", "fail",
    "accept", "reject", "agree", "disagree", "inside", "outside", "above", "below", "north", "south",
    "east", "west", "left", "right", "input", "output", "internal", "external", "freezing", "boiling",
    "sunrise", "sunset", "winner", "loser", "won", "lost", "farthest", "closest", "nearest", "farthest",
    "create", "delete", "install", "uninstall", "enable", "disable", "lock", "unlock", "encrypt", "decrypt",
    "borrow", "lend", "day", "night", "morning", "evening", "rise", "set", "summer", "winter", "top", "bottom",
    "largest", "smallest", "biggest", "smallest", "tallest", "shortest", "tallest", "smallest", "highest", "lowest",
    "oldest", "youngest", "richest", "poorest", "most", "least", "benefits", "risks", "pros", "risks",
};
// Words that name a day or a time, compared like numbers: "on a Tuesday" is not "on a Friday".
// ("may", "march", "sun" are left out: mostly other words.)
constexpr std::string_view kTimes[] = {
    "today", "tomorrow", "yesterday", "tonight", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays",
    "sundays", "january", "february", "april", "june", "july", "august", "september", "october",
    "november", "december",
};
// "which" sets the bit of "what": "Which planet…" and "What planet…" ask the same.
constexpr std::string_view kQuestionWords[] = {"what", "why", "how", "when", "where", "who", "which"};
constexpr size_t kWhich = 6, kWhat = 0;
// Words whose two sides are an ordered pair: "from A to B", "A than B", "A of B", "A vs B".
// A pair is kept per word ("into" counts as "to", "versus" as "vs"), so "the euro to dollar
// rate" and "the rate from euros to dollars" do not clash over "rate".
constexpr std::string_view kDirectional[] = {"to", "into", "from", "than", "of", "vs", "versus"};
constexpr uint32_t kDirectionalId[] = {0, 0, 1, 2, 3, 4, 4};
// Roman numerals written in capitals (from II: "I" is the pronoun), compared like numbers:
// "World War II", "Henry VIII".
constexpr std::string_view kRoman[] = {"ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"};
constexpr std::string_view kUnits[] = {
    "kg", "kgs", "g", "mg", "lb", "lbs", "pounds", "pound", "km", "m", "cm", "mm", "miles", "mile",
    "ft", "feet", "inch", "inches", "gb", "mb", "tb", "years", "year", "percent",
};
constexpr std::string_view kNumberWords[] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
};

std::string stem(std::string w) {
  auto ends = [&](std::string_view s) { return w.size() > s.size() && w.compare(w.size() - s.size(), s.size(), s) == 0; };
  if (w.size() > 4 && ends("ies")) return w.substr(0, w.size() - 3) + "y";
  if (w.size() > 5 && ends("ing")) return w.substr(0, w.size() - 3);
  if (w.size() > 4 && ends("ed")) return w.substr(0, w.size() - 2);
  if (w.size() > 3 && ends("s") && !ends("ss") && !ends("us") && !ends("is")) return w.substr(0, w.size() - 1);
  return w;
}

struct Token {
  std::string raw;  // as written
  bool sentenceStart;
};

std::vector<Token> tokenize(std::string_view text) {
  std::vector<Token> out;
  bool start = true;
  size_t i = 0, n = text.size();
  while (i < n) {
    uint8_t c = uint8_t(text[i]);
    if (!wordByte(c)) {
      if (c == '.' || c == '?' || c == '!' || c == '\n' || c == ':' || c == '"') start = true;
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n) {
      uint8_t d = uint8_t(text[j]);
      if (wordByte(d)) {
        ++j;
      } else if ((d == '.' || d == ',') && j + 1 < n && digit(uint8_t(text[j + 1])) && j > i && digit(uint8_t(text[j - 1]))) {
        ++j;  // 1,000 and 5.5 stay one token
      } else if (d == '\'' && j + 1 < n && wordByte(uint8_t(text[j + 1]))) {
        ++j;  // don't, it's
      } else {
        break;
      }
    }
    out.push_back({std::string(text.substr(i, j - i)), start});
    start = false;
    if (j < n && text[j] == '%') out.push_back({"percent", false});  // "15%" is "15 percent"
    i = j;
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (upper(uint8_t(c))) c = char(c + 32);
  return s;
}

void sortUnique(std::vector<uint32_t>& v, size_t cap) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.size() > cap) v.resize(cap);  // bottom-k sketch: the smallest hashes
}

// Walks the tokens once; on_word gets content-word hashes, the rest fills sig.
template <class OnWord>
void analyze(std::string_view text, Signature* sig, OnWord&& onWord) {
  std::vector<Token> toks = tokenize(text);
  size_t negations = 0;
  std::vector<uint32_t> units;   // content words and numbers in order, for argument order
  std::vector<std::pair<size_t, uint32_t>> betweens;  // directional word (id) before units[i]
  for (size_t t = 0; t < toks.size(); ++t) {
    const std::string& raw = toks[t].raw;
    std::string w = lower(raw);
    bool isName = false;
    if (upper(uint8_t(raw[0]))) {
      size_t caps = std::count_if(raw.begin(), raw.end(), [](char c) { return upper(uint8_t(c)); });
      isName = (!toks[t].sentenceStart && raw != "I") || (caps >= 2 && caps == raw.size());
    }
    size_t apos = w.find('\'');
    if (apos != std::string::npos) {
      std::string_view tail = std::string_view(w).substr(apos);
      if (tail == "'t" && apos > 0 && w[apos - 1] == 'n') {  // don't, isn't, can't
        negations++;
        continue;
      }
      w.resize(apos);  // it's -> it, John's -> john
    }
    if (w.empty()) continue;
    if (sig)
      for (size_t k = 0; k < std::size(kQuestionWords); ++k)
        if (w == kQuestionWords[k]) sig->question |= uint8_t(1u << (k == kWhich ? kWhat : k));
    if (auto d = std::find(std::begin(kDirectional), std::end(kDirectional), w); d != std::end(kDirectional)) {
      betweens.emplace_back(units.size(), kDirectionalId[d - std::begin(kDirectional)]);
      continue;
    }
    if (among(w, kNegations)) {
      negations++;
      continue;
    }
    if (among(w, kTimes)) {
      std::string t = w.back() == 's' ? w.substr(0, w.size() - 1) : w;  // tuesdays -> tuesday
      if (sig) sig->numbers.push_back(h32("time:" + t));
      units.push_back(h32("time:" + t));
      continue;
    }
    auto roman = std::find(std::begin(kRoman), std::end(kRoman), w);
    if (roman != std::end(kRoman) && std::all_of(raw.begin(), raw.end(), [](char c) { return upper(uint8_t(c)); })) {
      uint32_t h = h32(std::to_string(roman - std::begin(kRoman) + 2));
      if (sig) sig->numbers.push_back(h);
      units.push_back(h);
      continue;
    }
    bool hasDigit = std::any_of(w.begin(), w.end(), [](char c) { return digit(uint8_t(c)); });
    auto numWord = std::find(std::begin(kNumberWords), std::end(kNumberWords), w);
    if (hasDigit || (numWord != std::end(kNumberWords) && w != "one")) {
      std::string num = hasDigit ? w : std::to_string(numWord - std::begin(kNumberWords));
      num.erase(std::remove(num.begin(), num.end(), ','), num.end());
      if (t + 1 < toks.size() && std::all_of(num.begin(), num.end(), [](char c) { return digit(uint8_t(c)) || c == '.'; })) {
        std::string next = lower(toks[t + 1].raw);
        if (among(next, kUnits)) {  // "5 kg" == "5kg"
          num += next;
          ++t;
        }
      }
      if (sig) sig->numbers.push_back(h32(num));
      units.push_back(h32(num));
      continue;
    }
    if (sig) {
      auto p = std::find(std::begin(kPolarity), std::end(kPolarity), w);
      for (; p != std::end(kPolarity); p = std::find(p + 1, std::end(kPolarity), w))
        sig->marks.push_back(uint32_t(p - std::begin(kPolarity)));
      std::optional<EntityRef> e;
      if (t + 1 < toks.size()) e = lookupEntity(w + ' ' + lower(toks[t + 1].raw));  // "new york"
      if (!e) e = lookupEntity(raw == "US" || raw == "USA" ? "usa" : w == "us" ? "" : w);  // "us" is mostly the pronoun
      if (e) sig->marks.push_back(kEntityMark | uint32_t(e->kind) << 16 | e->member);
    }
    if (among(w, kStop)) continue;
    uint32_t h = h32(stem(w));
    if (sig && isName) sig->names.push_back(h);  // the content-word hash: the other side may write it lowercase
    units.push_back(h);
    onWord(h);
  }
  if (sig) {
    // The two nearest content words on each side of a directional word, as ordered pairs.
    for (auto [b, d] : betweens)
      for (size_t i = b >= 2 ? b - 2 : 0; i < b; ++i)
        for (size_t j = b; j < std::min(b + 2, units.size()); ++j) {
          uint32_t x = units[i], y = units[j];
          if (x == y) continue;
          uint32_t lo = std::min(x, y), hi = std::max(x, y);
          uint32_t key[3] = {lo, hi, d};
          uint32_t pair = uint32_t(xxh64(key, sizeof key, 0x04d3));
          sig->marks.push_back(kOrderMark | (pair & 0x7ffffffeu) | (x == lo ? 0u : 1u));
        }
    sig->tokens = uint16_t(std::min<size_t>(toks.size(), 65535));
    sig->negations = uint8_t(std::min<size_t>(negations, 255));
  }
}

void writeList(ByteWriter& w, const std::vector<uint32_t>& v) {
  w.pod(uint8_t(v.size()));
  w.raw(v.data(), v.size() * 4);
}

std::vector<uint32_t> readList(ByteReader& r, size_t cap) {
  size_t n = r.pod<uint8_t>("signature list length");
  if (n > cap) throw Error(codes::kCorruptSnapshot, "signature list is longer than its cap");
  std::vector<uint32_t> v(n);
  std::memcpy(v.data(), r.take(n * 4, "signature list"), n * 4);
  for (size_t i = 1; i < n; ++i)
    if (v[i] <= v[i - 1]) throw Error(codes::kCorruptSnapshot, "signature list is not sorted");
  return v;
}

}  // namespace

Signature makeSignature(std::string_view text) {
  Signature s;
  analyze(text, &s, [&](uint32_t h) { s.words.push_back(h); });
  sortUnique(s.words, kMaxSigWords);
  sortUnique(s.numbers, kMaxSigOthers);
  sortUnique(s.names, kMaxSigOthers);
  sortUnique(s.marks, kMaxSigOthers);
  return s;
}

void forEachContentWord(std::string_view text, const std::function<void(uint32_t)>& f) {
  analyze(text, nullptr, f);
}

void writeSignature(ByteWriter& w, const Signature& s) {
  w.pod(s.tokens);
  w.pod(s.negations);
  w.pod(s.question);
  writeList(w, s.words);
  writeList(w, s.numbers);
  writeList(w, s.names);
  writeList(w, s.marks);
}

Signature readSignature(ByteReader& r) {
  Signature s;
  s.tokens = r.pod<uint16_t>("signature");
  s.negations = r.pod<uint8_t>("signature");
  s.question = r.pod<uint8_t>("signature");
  if (s.question >= 1u << std::size(kQuestionWords)) throw Error(codes::kCorruptSnapshot, "signature has unknown question words");
  s.words = readList(r, kMaxSigWords);
  s.numbers = readList(r, kMaxSigOthers);
  s.names = readList(r, kMaxSigOthers);
  s.marks = readList(r, kMaxSigOthers);
  for (uint32_t m : s.marks) {
    MarkKind k = markKind(m);
    if ((k == MarkKind::kAntonym && m >= std::size(kPolarity)) ||
        (k == MarkKind::kEntity && ((m >> 16 & 0x3fff) == 0 || (m >> 16 & 0x3fff) > kEntityKinds)))
      throw Error(codes::kCorruptSnapshot, "signature has an unknown mark");
  }
  return s;
}

size_t signatureBytes(const Signature& s) {
  return 4 + 4 + 4 * (s.words.size() + s.numbers.size() + s.names.size() + s.marks.size());
}

MarkKind markKind(uint32_t m) { return m & kOrderMark ? MarkKind::kOrder : m & kEntityMark ? MarkKind::kEntity : MarkKind::kAntonym; }
uint32_t markGroup(uint32_t m) {
  switch (markKind(m)) {
    case MarkKind::kAntonym: return m / 2;
    case MarkKind::kEntity: return m >> 16 & 0x3fff;
    default: return (m & ~kOrderMark) >> 1;
  }
}
uint32_t markMember(uint32_t m) { return markKind(m) == MarkKind::kEntity ? m & 0xffff : m & 1; }

}  // namespace semcache
