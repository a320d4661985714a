#include "text/sentencepiece.h"

#include "common/error.h"
#include "text/json.h"
#include "text/unicode.h"

namespace semcache::text {

static constexpr uint64_t kEmpty = ~uint64_t(0);

static uint64_t mix(uint64_t k) {
  k ^= k >> 33; k *= 0xff51afd7ed558ccdull; k ^= k >> 33;
  return k;
}

int32_t SentencePieceTokenizer::child(int32_t node, char32_t cp) const {
  uint64_t key = (uint64_t(node) << 21) | cp;
  size_t mask = edgeKeys_.size() - 1, i = mix(key) & mask;
  for (;;) {
    uint64_t k = edgeKeys_[i];
    if (k == key) return edgeChild_[i];
    if (k == kEmpty) return -1;
    i = (i + 1) & mask;
  }
}

void SentencePieceTokenizer::addEdge(int32_t node, char32_t cp, int32_t childNode) {
  uint64_t key = (uint64_t(node) << 21) | cp;
  size_t mask = edgeKeys_.size() - 1, i = mix(key) & mask;
  while (edgeKeys_[i] != kEmpty) i = (i + 1) & mask;
  edgeKeys_[i] = key;
  edgeChild_[i] = childNode;
}

SentencePieceTokenizer::SentencePieceTokenizer(std::string_view vocabJson, int reserved) {
  json::Value doc = json::parse(vocabJson, kInvalidVocab, "SentencePiece vocab.json");
  if (!doc.isArray() || doc.items.empty())
    throw Error(kInvalidVocab, "SentencePiece vocab.json: expected a non-empty array of [piece, score]");
  size_t n = doc.items.size();
  // the trie has at most one node per code point of all pieces
  size_t totalCps = 0;
  std::vector<Codepoints> pieces(n);
  std::vector<double> scores(n);
  for (size_t id = 0; id < n; id++) {
    const json::Value& e = doc.items[id];
    if (!e.isArray() || e.items.size() != 2 || !e.items[0].isString() || !(e.items[1].isNumber() || e.items[1].isNull()))
      throw Error(kInvalidVocab, "SentencePiece vocab.json: entry " + std::to_string(id) +
                                     " is not a [string, number] pair");
    // a null score (7 pieces of the USE vocab, e.g. ":") acts as 0 in the JS sum `null + best`
    utf8Decode(e.items[0].str, pieces[id]);
    scores[id] = e.items[1].number;
    int32_t len16 = 0;
    for (char32_t cp : pieces[id]) len16 += utf16Length(cp);
    pieceLen16_.push_back(len16);
    totalCps += pieces[id].size();
  }
  if (pieceLen16_[0] == 0)
    throw Error(kInvalidVocab, "SentencePiece vocab.json: piece 0 (the unknown piece) is empty");
  if (reserved < 0 || size_t(reserved) > n)
    throw Error(codes::kInvalidArgument, "SentencePiece: reserved count " + std::to_string(reserved) +
                                             " outside the vocabulary");
  size_t cap = 64;
  while (cap < totalCps * 2 + 2) cap *= 2;
  edgeKeys_.assign(cap, kEmpty);
  edgeChild_.assign(cap, -1);
  nodes_.emplace_back();
  for (size_t id = size_t(reserved); id < n; id++) {
    int32_t node = 0;
    for (char32_t cp : pieces[id]) {
      int32_t next = child(node, cp);
      if (next < 0) {
        next = int32_t(nodes_.size());
        nodes_.emplace_back();
        addEdge(node, cp, next);
      }
      node = next;
    }
    if (node == 0) continue;  // an empty piece can never match (the JS trie ignores it too)
    nodes_[node].piece = int32_t(id);  // a later duplicate overwrites, as in the JS trie
    nodes_[node].score = scores[id];
  }
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text, int maxLength) const {
  if (maxLength < 0) throw Error(codes::kInvalidArgument, "SentencePiece: maxLength must be >= 0");
  Codepoints cps;
  utf8Decode(text, cps);
  bool ascii = true;
  for (char32_t c : cps) ascii &= c < 0x80;
  if (!ascii) cps = nfkc(cps);  // ASCII is NFKC-invariant
  std::vector<int32_t> ids;
  if (cps.empty()) return ids;
  // s is '▁' + text with spaces as '▁'; (n,)
  Codepoints s;
  s.reserve(cps.size() + 1);
  s.push_back(0x2581);
  for (char32_t c : cps) s.push_back(c == ' ' ? 0x2581 : c);
  int n = int(s.size());
  // best[e], words[e]: best score and last piece of a segmentation ending at e; 0 = unset
  std::vector<double> best(n + 1, 0.0);
  std::vector<int32_t> words(n + 1, 0);
  // Forward relaxation visits each end's candidates in increasing start order, the same order as
  // the JS lattice walk, and best[start] is final when used.
  for (int i = 0; i < n; i++) {
    bool any = false;
    int32_t node = 0;
    for (int j = i; j < n; j++) {
      node = child(node, s[j]);
      if (node < 0) break;
      const Node& nd = nodes_[node];
      if (nd.piece < 0) continue;
      any = true;
      int e = j + 1;
      double score = nd.score + best[i];
      if (best[e] == 0 || score >= best[e]) { best[e] = score; words[e] = nd.piece; }
    }
    if (!any) {
      int e = i + 1;
      double score = 0 + best[i];
      if (best[e] == 0 || score >= best[e]) { best[e] = score; words[e] = 0; }
    }
  }
  std::vector<int32_t> rev;
  for (int it = n; it > 0; it -= pieceLen16_[words[it]]) rev.push_back(words[it]);
  bool prevUnk = false;
  for (size_t k = rev.size(); k-- > 0;) {
    int32_t id = rev[k];
    if (!(prevUnk && id == 0)) ids.push_back(id);
    prevUnk = id == 0;
  }
  if (maxLength > 0 && ids.size() > size_t(maxLength)) ids.resize(size_t(maxLength));
  return ids;
}

Batch SentencePieceTokenizer::encodeBatch(const std::vector<std::string>& texts, int maxLength) const {
  std::vector<std::vector<int32_t>> rows;
  rows.reserve(texts.size());
  for (const auto& t : texts) rows.push_back(encode(t, maxLength));
  return padBatch(rows, 0);
}

}  // namespace semcache::text
