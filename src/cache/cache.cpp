#include "cache/cache.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <tuple>

#include "cache/snapshot.h"
#include "common/error.h"
#include "common/hash.h"
#include "text/normalize.h"

namespace semcache {
namespace {

double msSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void checkTime(double now) {
  if (!std::isfinite(now)) throw Error(codes::kNotFinite, "timestamp must be a finite number of ms");
}

}  // namespace

EvictionPolicy parsePolicy(const std::string& name) {
  if (name == "lru") return EvictionPolicy::LRU;
  if (name == "lfu") return EvictionPolicy::LFU;
  if (name == "fifo") return EvictionPolicy::FIFO;
  throw Error(codes::kInvalidArgument, "unknown eviction policy '" + name + "' (expected 'lru', 'lfu' or 'fifo')");
}

const char* policyName(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::LFU: return "lfu";
    case EvictionPolicy::FIFO: return "fifo";
    default: return "lru";
  }
}

uint64_t Cache::hashPrompt(std::string_view prompt) { return xxh64(prompt); }

uint64_t Cache::exactKey(std::string_view prompt) const {
  return config_.normalizedKeys ? xxh64(text::normalizePrompt(prompt)) : xxh64(prompt);
}

Cache::Cache(const CacheConfig& config) : config_(config) {
  makeSpace(config_.index.space, config_.index.dim);  // validates dim and space early
  configure(config);
  unit_.resize(config_.index.dim);
}

Cache::~Cache() { cancelSnapshot(); }

void Cache::configure(const CacheConfig& c) {
  if (c.index.dim != config_.index.dim || c.index.space != config_.index.space)
    throw Error(codes::kInvalidArgument, "dim and space are fixed when the cache is created");
  if (c.normalizedKeys != config_.normalizedKeys)
    throw Error(codes::kInvalidArgument, "normalizedKeys is fixed when the cache is created");
  if (!(c.threshold >= -1.f && c.threshold <= 1.f))
    throw Error(codes::kInvalidArgument, "threshold must be a cosine in [-1, 1], got " + std::to_string(c.threshold));
  if (!(c.evictFraction >= 0 && c.evictFraction < 1))
    throw Error(codes::kInvalidArgument, "evictFraction must be in [0, 1)");
  if (c.candidates < 1 || c.candidates > 1000) throw Error(codes::kInvalidArgument, "candidates must be in 1..1000");
  if (!(c.maxFalseHitRate >= 0.f && c.maxFalseHitRate <= 1.f))
    throw Error(codes::kInvalidArgument, "maxFalseHitRate must be in [0, 1], got " + std::to_string(c.maxFalseHitRate));
  if (c.evaluator == "learned" && model_ && model_->embDim() && model_->embDim() != c.index.dim)
    throw Error(codes::kInvalidArgument, "the evaluator model was trained on " + std::to_string(model_->embDim()) +
                                             "-d embeddings, the cache holds " + std::to_string(c.index.dim) + "-d ones");
  auto evaluator = makeEvaluator(c.evaluator, c.margin, model_, c.maxFalseHitRate);
  if (entries_.empty()) signatures_ = true;
  if (evaluator->needsSignatures() && !signatures_)
    throw Error(codes::kInvalidArgument, "the '" + c.evaluator + "' evaluator needs prompt signatures, and the " +
                                             std::to_string(entries_.size()) +
                                             " entries here were stored without: restore them from their rows");
  evaluator_ = std::move(evaluator);
  config_ = c;
  for (auto& s : scopes_)
    if (s) s->index->setEfSearch(c.index.efSearch);
}

size_t Cache::vectorBytes() const {
  return config_.index.space == SpaceKind::Int8 ? config_.index.dim + 4 : config_.index.dim * 4;
}

void Cache::normalize(const float* v, size_t n) {
  if (n != config_.index.dim)
    throw Error(codes::kDimensionMismatch,
                "vector has " + std::to_string(n) + " dimensions, the cache expects " + std::to_string(config_.index.dim));
  double sq = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i]))
      throw Error(codes::kNotFinite, "vector component " + std::to_string(i) + " is NaN or infinite");
    sq += double(v[i]) * v[i];
  }
  if (sq == 0 || !std::isfinite(sq)) throw Error(codes::kInvalidArgument, "vector has zero (or overflowing) length");
  float inv = float(1.0 / std::sqrt(sq));
  for (size_t i = 0; i < n; ++i) unit_[i] = v[i] * inv;
}

Cache::Scope* Cache::findScope(std::string_view key) {
  auto it = scopeIndex_.find(std::string(key));
  return it == scopeIndex_.end() ? nullptr : scopes_[it->second].get();
}

Cache::Scope& Cache::scopeFor(std::string_view key) {
  if (Scope* s = findScope(key)) return *s;
  auto s = std::make_unique<Scope>();
  s->key = std::string(key);
  IndexParams p = config_.index;
  s->index = std::make_unique<VectorIndex>(p);
  if (writer_) s->index->trackChanges(true);
  uint32_t slot = 0;
  while (slot < scopes_.size() && scopes_[slot]) ++slot;
  if (slot == scopes_.size()) scopes_.emplace_back();
  scopes_[slot] = std::move(s);
  scopeIndex_[std::string(key)] = slot;
  scopeChanged(slot);
  return *scopes_[slot];
}

const std::string& Cache::scopeKey(uint32_t scope) const {
  if (scope >= scopes_.size() || !scopes_[scope]) throw Error(codes::kNotFound, "no scope " + std::to_string(scope));
  return scopes_[scope]->key;
}

void Cache::insert(const Entry& e, Scope& s) {
  s.index->add(e.id, unit_.data());
  s.exact[e.promptHash] = e.id;
  entries_[e.id] = e;
  bytes_ += entryBytes(e);
  entryChanged(e.id);
}

void Cache::erase(uint32_t id) {
  auto it = entries_.find(id);
  const Entry& e = it->second;
  Scope& s = *scopes_[e.scope];
  s.index->remove(id);
  auto ex = s.exact.find(e.promptHash);
  if (ex != s.exact.end() && ex->second == id) s.exact.erase(ex);
  bytes_ -= entryBytes(e);
  uint32_t slot = e.scope;
  entries_.erase(it);
  entryChanged(id);
  if (s.index->size() == 0) {  // drop empty scopes: their index memory goes with them
    scopeIndex_.erase(s.key);
    scopes_[slot].reset();
    scopeChanged(slot);
  }
}

LookupResult Cache::lookupExact(std::string_view scope, std::string_view prompt, double now) {
  checkTime(now);
  LookupResult r;
  Scope* s = findScope(scope);
  if (!s) return r;
  auto it = s->exact.find(exactKey(prompt));
  if (it == s->exact.end()) return r;
  Entry& e = entries_.at(it->second);
  if (e.expiresAt > 0 && e.expiresAt <= now) {
    r.expired.push_back(e.id);
    erase(e.id);
    stats_.expirations++;
    return r;
  }
  e.lastAccess = now;
  e.hits++;
  entryChanged(e.id);
  stats_.lookups++;
  stats_.hits++;
  stats_.exactHits++;
  r.hit = r.exact = true;
  r.id = e.id;
  r.similarity = r.score = 1.f;
  r.candidates.push_back({e.id, 1.f});
  return r;
}

LookupResult Cache::lookup(std::string_view scope, const float* vector, size_t n, double now, const LookupOptions& opt) {
  return search(scope, nullptr, vector, n, now, opt);
}

LookupResult Cache::lookup(std::string_view scope, std::string_view prompt, const float* vector, size_t n, double now,
                           const LookupOptions& opt) {
  if (!needsSignatures()) return search(scope, nullptr, vector, n, now, opt);
  Signature q = makeSignature(prompt);
  return search(scope, &q, vector, n, now, opt);
}

LookupResult Cache::search(std::string_view scope, const Signature* query, const float* vector, size_t n, double now,
                           const LookupOptions& opt) {
  checkTime(now);
  float threshold = std::isnan(opt.threshold) ? config_.threshold : opt.threshold;
  if (!(threshold >= -1.f && threshold <= 1.f))
    throw Error(codes::kInvalidArgument, "threshold must be a cosine in [-1, 1], got " + std::to_string(threshold));
  normalize(vector, n);
  LookupResult r;
  stats_.lookups++;
  Scope* s = findScope(scope);
  if (!s) {
    stats_.misses++;
    return r;
  }
  auto t0 = std::chrono::steady_clock::now();
  size_t k = opt.k ? opt.k : config_.candidates;
  // Ask for a few more than k so that expired entries dropped below still leave k candidates.
  auto hits = s->index->search(unit_.data(), k + 2, opt.ef);
  for (const IndexHit& h : hits) {
    const Entry& e = entries_.at(uint32_t(h.label));
    if (e.expiresAt > 0 && e.expiresAt <= now) {
      r.expired.push_back(e.id);
    } else if (r.candidates.size() < k) {
      r.candidates.push_back({e.id, std::clamp(h.similarity, -1.f, 1.f)});
    }
  }
  r.searchMs = msSince(t0);
  stats_.searchMs += r.searchMs;
  for (uint32_t id : r.expired) {  // may drop the scope: `s` is not used after this
    erase(id);
    stats_.expirations++;
  }
  if (r.candidates.empty()) {
    stats_.misses++;
    return r;
  }
  auto t1 = std::chrono::steady_clock::now();
  Entry& top = entries_.at(r.candidates.front().id);
  EvalInput in;
  in.threshold = threshold;
  in.offset = top.offset;
  in.query = query;
  static const Signature kNoSignature;
  in.top = top.sig ? top.sig.get() : &kNoSignature;
  std::vector<float> topVec;
  if (evaluator_->needsVectors()) {
    topVec = scopes_[top.scope]->index->vector(top.id);
    in.queryVec = unit_.data();
    in.topVec = topVec.data();
    in.dims = uint32_t(topVec.size());
  }
  Decision d = evaluator_->evaluate(r.candidates, in);
  r.evaluateMs = msSince(t1);
  stats_.evaluateMs += r.evaluateMs;
  r.id = top.id;
  r.similarity = r.candidates.front().similarity;
  r.score = d.score;
  r.hit = d.hit;
  if (r.hit) {
    Entry& e = top;
    e.lastScore = d.score;
    e.lastAccess = now;
    e.hits++;
    entryChanged(e.id);
    stats_.hits++;
  } else {
    stats_.misses++;
  }
  return r;
}

PutResult Cache::put(std::string_view scope, std::string_view prompt, const float* vector, size_t n,
                     uint32_t answerBytes, double now, double ttlMs) {
  checkTime(now);
  if (!std::isfinite(ttlMs)) throw Error(codes::kNotFinite, "ttl must be a finite number of ms");
  auto t0 = std::chrono::steady_clock::now();
  normalize(vector, n);
  Entry e;
  e.answerBytes = answerBytes;
  if (config_.maxBytes && entryBytes(e) > config_.maxBytes)
    throw Error(codes::kCapacity, "entry needs " + std::to_string(entryBytes(e)) + " bytes, more than maxBytes (" +
                                      std::to_string(config_.maxBytes) + ")");
  if (nextId_ == 0) throw Error(codes::kCapacity, "entry ids exhausted (2^32 puts): clear the cache");
  PutResult r;
  e.promptHash = exactKey(prompt);
  if (needsSignatures()) e.sig = std::make_shared<const Signature>(makeSignature(prompt));
  else signatures_ = false;
  Scope& s = scopeFor(scope);
  auto same = s.exact.find(e.promptHash);
  uint32_t replaced = same != s.exact.end() ? same->second : 0;
  if (replaced) {
    r.replaced = replaced;
    erase(replaced);
    stats_.removals++;
  }
  Scope& target = scopeFor(scope);  // erase may have dropped the scope
  e.id = nextId_++;
  e.scope = scopeIndex_.at(std::string(scope));
  e.created = e.lastAccess = now;
  e.expiresAt = ttlMs > 0 ? now + ttlMs : 0;
  insert(e, target);
  stats_.puts++;
  r.id = e.id;
  stats_.putMs += msSince(t0);
  r.evicted = enforceLimits(now, e.id);
  return r;
}

void Cache::restore(const Entry& in, std::string_view scope, std::string_view prompt, const float* vector, size_t n) {
  if (in.id == 0) throw Error(codes::kInvalidArgument, "entry id 0 is reserved");
  if (entries_.count(in.id)) throw Error(codes::kInvalidArgument, "entry " + std::to_string(in.id) + " restored twice");
  normalize(vector, n);
  Scope& s = scopeFor(scope);
  Entry e = in;
  e.promptHash = exactKey(prompt);
  e.sig = nullptr;
  if (needsSignatures()) e.sig = std::make_shared<const Signature>(makeSignature(prompt));
  else signatures_ = false;
  auto same = s.exact.find(e.promptHash);
  if (same != s.exact.end()) {  // keep the newer of two rows with one prompt
    if (same->second > e.id) return;
    erase(same->second);
  }
  Scope& target = scopeFor(scope);  // erase may have dropped the scope
  e.scope = scopeIndex_.at(std::string(scope));
  insert(e, target);
  nextId_ = std::max(nextId_, e.id + 1);
}

float Cache::feedback(uint32_t id, bool correct) {
  auto it = entries_.find(id);
  if (it == entries_.end()) throw Error(codes::kNotFound, "no entry " + std::to_string(id));
  Entry& e = it->second;
  entryChanged(id);
  if (correct) {
    e.offset = std::max(kFeedbackMinOffset, e.offset - kFeedbackLower);
  } else {
    float past = e.lastScore - baseThreshold() + 1e-3f;  // the score that let the wrong hit in must fail now
    e.offset = std::min(kFeedbackMaxOffset, std::max(e.offset + kFeedbackRaise, past));
  }
  return e.offset;
}

bool Cache::noteHit(uint32_t id, float score, double now) {
  checkTime(now);
  if (!std::isfinite(score)) throw Error(codes::kNotFinite, "a hit's score must be a finite number");
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  Entry& e = it->second;
  if (e.expiresAt > 0 && e.expiresAt <= now) return false;  // the next lookup or purge drops it
  e.lastScore = score;
  e.lastAccess = now;
  e.hits++;
  entryChanged(id);
  stats_.lookups++;
  stats_.hits++;
  return true;
}

void Cache::loadEvaluatorModel(const uint8_t* data, size_t size) {
  auto m = EvaluatorModel::load(data, size);
  auto keep = model_;
  model_ = m;
  try {
    configure(config_);
  } catch (...) {
    model_ = keep;
    throw;
  }
}

bool Cache::remove(uint32_t id) {
  if (!entries_.count(id)) return false;
  erase(id);
  stats_.removals++;
  return true;
}

std::vector<uint32_t> Cache::clearScope(std::string_view scope) {
  std::vector<uint32_t> out = ids(scope);
  for (uint32_t id : out) erase(id);
  stats_.removals += out.size();
  return out;
}

void Cache::clear() {
  cancelSnapshot();
  stats_.removals += entries_.size();
  entries_.clear();
  scopes_.clear();
  scopeIndex_.clear();
  bytes_ = 0;
  signatures_ = true;
}

std::vector<uint32_t> Cache::purgeExpired(double now) {
  checkTime(now);
  std::vector<uint32_t> out;
  for (const auto& [id, e] : entries_)
    if (e.expiresAt > 0 && e.expiresAt <= now) out.push_back(id);
  std::sort(out.begin(), out.end());
  for (uint32_t id : out) erase(id);
  stats_.expirations += out.size();
  return out;
}

std::vector<uint32_t> Cache::enforceLimits(double now, uint32_t protect) {
  bool overCount = config_.maxEntries && entries_.size() > config_.maxEntries;
  bool overBytes = config_.maxBytes && bytes_ > config_.maxBytes;
  if (!overCount && !overBytes) return {};
  auto t0 = std::chrono::steady_clock::now();
  // Expired entries go first; they are dead weight whatever the policy.
  std::vector<uint32_t> out = purgeExpired(now);
  // One batch: evict down to (1 - evictFraction) of each limit so that the next puts don't
  // each pay for a scan of every entry.
  uint64_t countTarget = config_.maxEntries ? config_.maxEntries - uint64_t(config_.maxEntries * config_.evictFraction) : 0;
  uint64_t bytesTarget = config_.maxBytes ? config_.maxBytes - uint64_t(config_.maxBytes * config_.evictFraction) : 0;
  auto over = [&] {
    return (config_.maxEntries && entries_.size() > countTarget) || (config_.maxBytes && bytes_ > bytesTarget);
  };
  evictByPolicy(over, std::span<const uint32_t>(&protect, protect ? 1 : 0), out);
  stats_.evictMs += msSince(t0);
  return out;
}

std::vector<uint32_t> Cache::evict(size_t n, double now, std::span<const uint32_t> protect) {
  checkTime(now);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<uint32_t> out;
  for (const auto& [id, e] : entries_)
    if (e.expiresAt > 0 && e.expiresAt <= now && std::find(protect.begin(), protect.end(), id) == protect.end())
      out.push_back(id);
  std::sort(out.begin(), out.end());
  if (out.size() > n) out.resize(n);
  for (uint32_t id : out) erase(id);
  stats_.expirations += out.size();
  evictByPolicy([&] { return out.size() < n; }, protect, out);
  stats_.evictMs += msSince(t0);
  return out;
}

void Cache::evictByPolicy(const std::function<bool()>& more, std::span<const uint32_t> protect, std::vector<uint32_t>& out) {
  if (!more()) return;
  using Key = std::tuple<double, double, uint32_t>;  // policy key, tie-break, id
  std::vector<Key> order;
  order.reserve(entries_.size());
  for (const auto& [id, e] : entries_) {
    if (std::find(protect.begin(), protect.end(), id) != protect.end()) continue;
    switch (config_.policy) {
      case EvictionPolicy::LRU: order.emplace_back(e.lastAccess, e.created, id); break;
      case EvictionPolicy::LFU: order.emplace_back(double(e.hits), e.lastAccess, id); break;
      case EvictionPolicy::FIFO: order.emplace_back(e.created, 0.0, id); break;
    }
  }
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size() && more(); ++i) {
    erase(std::get<2>(order[i]));
    out.push_back(std::get<2>(order[i]));
    stats_.evictions++;
  }
}

const Entry* Cache::find(uint32_t id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<uint32_t> Cache::ids(std::string_view scope) const {
  std::vector<uint32_t> out;
  uint32_t slot = UINT32_MAX;
  if (!scope.empty()) {
    auto it = scopeIndex_.find(std::string(scope));
    if (it == scopeIndex_.end()) return out;
    slot = it->second;
  }
  for (const auto& [id, e] : entries_)
    if (slot == UINT32_MAX || e.scope == slot) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<float> Cache::vector(uint32_t id) const {
  const Entry* e = find(id);
  if (!e) throw Error(codes::kNotFound, "no entry " + std::to_string(id));
  return scopes_[e->scope]->index->vector(id);
}

CacheStats Cache::stats() const {
  CacheStats s = stats_;
  s.entries = entries_.size();
  s.bytes = bytes_;
  s.scopes = scopeIndex_.size();
  return s;
}

CacheMemory Cache::memory() const {
  CacheMemory m;
  m.entries = mapBytes(entries_);
  for (const auto& [id, e] : entries_) {
    if (!e.sig) continue;
    m.signatures += allocBytes(sizeof(Signature) + 2 * sizeof(void*));  // make_shared: one block
    for (const auto* list : {&e.sig->words, &e.sig->numbers, &e.sig->names, &e.sig->marks})
      if (list->capacity()) m.signatures += allocBytes(list->capacity() * sizeof(uint32_t));
  }
  m.scopes = allocBytes(scopes_.capacity() * sizeof(void*)) + mapBytes(scopeIndex_);
  for (const auto& s : scopes_) {
    if (!s) continue;
    m.index += s->index->memory();
    m.exact += mapBytes(s->exact);
    m.scopes += allocBytes(sizeof(Scope)) + allocBytes(s->key.capacity() + 1) + allocBytes(sizeof(VectorIndex));
  }
  return m;
}

std::vector<uint8_t> Cache::snapshot(uint64_t seq) {
  SnapshotWriter writer(*this, /*track=*/false);
  ByteWriter w;
  while (!writer.next(w, std::numeric_limits<size_t>::max(), seq)) {
  }
  return std::move(w.bytes());
}

uint64_t Cache::loadSnapshot(const uint8_t* data, size_t size) {
  SnapshotLoader loader(*this, size);
  loader.push(data, size);
  return loader.finish();
}

void Cache::entryChanged(uint32_t id) {
  if (writer_) writer_->entryChanged(id);
}

void Cache::scopeChanged(uint32_t slot) {
  if (writer_) writer_->scopeChanged(slot);
}

void Cache::cancelSnapshot() {
  if (!writer_) return;
  if (!writer_->done()) writer_->cancel();
  writer_ = nullptr;
  for (auto& s : scopes_)
    if (s) s->index->trackChanges(false);
}

}  // namespace semcache
