#include "text/unicode.h"

#include <algorithm>

#include "text/unicode_tables.h"

namespace semcache::text {

using namespace tables;

// --- UTF-8 ---

void utf8Decode(std::string_view s, Codepoints& out, bool surrogateAsOne) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  out.reserve(out.size() + n);
  while (i < n) {
    unsigned b = p[i];
    if (b < 0x80) { out.push_back(b); i++; continue; }
    if (surrogateAsOne && b == 0xED && i + 2 < n && (p[i + 1] & 0xE0) == 0xA0 && (p[i + 2] & 0xC0) == 0x80) {
      out.push_back(0xFFFD);
      i += 3;
      continue;
    }
    int need;
    unsigned lo = 0x80, hi = 0xBF;
    char32_t cp;
    if (b >= 0xC2 && b <= 0xDF) { need = 1; cp = b & 0x1F; }
    else if (b >= 0xE0 && b <= 0xEF) { need = 2; cp = b & 0x0F; if (b == 0xE0) lo = 0xA0; if (b == 0xED) hi = 0x9F; }
    else if (b >= 0xF0 && b <= 0xF4) { need = 3; cp = b & 0x07; if (b == 0xF0) lo = 0x90; if (b == 0xF4) hi = 0x8F; }
    else { out.push_back(0xFFFD); i++; continue; }
    size_t j = i + 1;
    bool ok = true;
    for (int k = 0; k < need; k++, j++) {
      // the offending byte is not consumed: it starts the next sequence (maximal subpart rule)
      if (j >= n || p[j] < lo || p[j] > hi) { ok = false; break; }
      cp = (cp << 6) | (p[j] & 0x3F);
      lo = 0x80; hi = 0xBF;
    }
    out.push_back(ok ? cp : 0xFFFD);
    i = j;
  }
}

void utf8Append(char32_t cp, std::string& out) {
  if (cp < 0x80) { out.push_back(char(cp)); }
  else if (cp < 0x800) { out.push_back(char(0xC0 | (cp >> 6))); out.push_back(char(0x80 | (cp & 0x3F))); }
  else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string utf8Encode(const char32_t* cps, size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; i++) utf8Append(cps[i], s);
  return s;
}

// --- classes ---

static bool inRanges(const Range* r, size_t n, char32_t cp) {
  size_t lo = 0, hi = n;  // first range with hi >= cp
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (r[mid].hi < cp) lo = mid + 1; else hi = mid;
  }
  return lo < n && r[lo].lo <= cp;
}

bool inMn(char32_t cp) { return cp >= 0x300 && inRanges(kMn, kMnCount, cp); }
bool inCased(char32_t cp) { return inRanges(kCased, kCasedCount, cp); }
bool inCaseIgnorable(char32_t cp) { return inRanges(kCaseIgnorable, kCaseIgnorableCount, cp); }
bool inBertControl(char32_t cp) { return inRanges(kBertControl, kBertControlCount, cp); }
bool isJsSpace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 9 && cp <= 13);
  return inRanges(kJsSpace, kJsSpaceCount, cp);
}
bool isBertPunct(char32_t cp) { return inRanges(kBertPunct, kBertPunctCount, cp); }

// --- normalization (UAX #15) ---

static uint32_t cccRank(char32_t cp) {
  if (cp < 0x300) return 0;
  auto* e = std::lower_bound(kCcc, kCcc + kCccCount, uint32_t(cp),
                             [](const CccEntry& a, uint32_t c) { return a.cp < c; });
  return (e != kCcc + kCccCount && e->cp == cp) ? e->rank : 0;
}

static const DecompEntry* findDecomp(char32_t cp) {
  auto* e = std::lower_bound(kDecomp, kDecomp + kDecompCount, uint32_t(cp),
                             [](const DecompEntry& a, uint32_t c) { return a.cp < c; });
  return (e != kDecomp + kDecompCount && e->cp == cp) ? e : nullptr;
}

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
              kSCount = kLCount * kNCount;

static void decompose(const Codepoints& in, bool compat, Codepoints& out) {
  out.clear();
  out.reserve(in.size() + 8);
  for (char32_t cp : in) {
    if (cp < 0xA0) { out.push_back(cp); continue; }  // nothing below U+00A0 decomposes
    if (cp >= kSBase && cp < kSBase + kSCount) {
      int s = int(cp - kSBase);
      out.push_back(kLBase + s / kNCount);
      out.push_back(kVBase + (s % kNCount) / kTCount);
      if (s % kTCount) out.push_back(kTBase + s % kTCount);
      continue;
    }
    const DecompEntry* e = findDecomp(cp);
    if (!e) { out.push_back(cp); continue; }
    uint32_t off = compat ? e->koff : e->off, len = compat ? e->klen : e->len;
    out.insert(out.end(), kPool + off, kPool + off + len);
  }
  // canonical reordering: stable sort of each run of non-starters by class
  size_t n = out.size();
  for (size_t i = 0; i < n;) {
    if (cccRank(out[i]) == 0) { i++; continue; }
    size_t j = i;
    while (j < n && cccRank(out[j]) != 0) j++;
    if (j - i > 1)
      std::stable_sort(out.begin() + i, out.begin() + j,
                       [](char32_t a, char32_t b) { return cccRank(a) < cccRank(b); });
    i = j;
  }
}

static char32_t composePair(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  auto* e = std::lower_bound(kComp, kComp + kCompCount, std::pair<uint32_t, uint32_t>(a, b),
                             [](const CompEntry& x, std::pair<uint32_t, uint32_t> k) {
                               return x.first < k.first || (x.first == k.first && x.second < k.second);
                             });
  if (e != kComp + kCompCount && e->first == a && e->second == b) return e->composite;
  return 0;
}

static void compose(Codepoints& s) {
  size_t n = s.size();
  if (n == 0) return;
  size_t starter = SIZE_MAX, w = 0;
  uint32_t lastCcc = 0;
  for (size_t i = 0; i < n; i++) {
    char32_t cp = s[i];
    uint32_t c = cccRank(cp);
    if (starter != SIZE_MAX) {
      // not blocked: the previous kept char is the starter, or has a lower class than cp
      bool blocked = (w - 1 != starter) && (lastCcc == 0 || lastCcc >= c);
      if (!blocked) {
        char32_t comp = composePair(s[starter], cp);
        if (comp) { s[starter] = comp; continue; }
      }
    }
    if (c == 0) { starter = w; }
    lastCcc = c;
    s[w++] = cp;
  }
  s.resize(w);
}

Codepoints nfd(const Codepoints& in) {
  Codepoints out;
  decompose(in, false, out);
  return out;
}

Codepoints nfkc(const Codepoints& in) {
  Codepoints out;
  decompose(in, true, out);
  compose(out);
  return out;
}

// --- lower-casing ---

static bool finalSigmaContext(const Codepoints& s, size_t i) {
  // ICU's rule: skip case-ignorable chars (even if also cased); the first other char decides.
  auto casedAround = [&](long k, long step) {
    for (; k >= 0 && k < long(s.size()); k += step) {
      if (inCaseIgnorable(s[k])) continue;
      return inCased(s[k]);
    }
    return false;
  };
  return casedAround(long(i) - 1, -1) && !casedAround(long(i) + 1, 1);
}

Codepoints toLowerJs(const Codepoints& in) {
  Codepoints out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); i++) {
    char32_t cp = in[i];
    if (cp < 0x80) { out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp); continue; }
    if (cp == 0x3A3) { out.push_back(finalSigmaContext(in, i) ? 0x3C2 : 0x3C3); continue; }
    auto* e = std::lower_bound(kLower, kLower + kLowerCount, uint32_t(cp),
                               [](const LowerEntry& a, uint32_t c) { return a.cp < c; });
    if (e != kLower + kLowerCount && e->cp == cp) out.insert(out.end(), kPool + e->off, kPool + e->off + e->len);
    else out.push_back(cp);
  }
  return out;
}

}  // namespace semcache::text
