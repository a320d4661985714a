#pragma once
// The cache's in-memory truth: entry metadata, one HNSW index per scope, exact-prompt lookup,
// eviction and stats. No I/O and no clock: callers pass `now` (ms) and persist what put/evict
// report. Answers are not here — only their sizes — they live in the caller's store.
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/evaluator.h"
#include "cache/learned.h"
#include "cache/signature.h"
#include "index/vector_index.h"

namespace semcache {

class SnapshotWriter;

enum class EvictionPolicy : uint32_t { LRU = 1, LFU = 2, FIFO = 3 };
EvictionPolicy parsePolicy(const std::string& name);  // "lru" | "lfu" | "fifo"
const char* policyName(EvictionPolicy p);

// The defaults here are every cache's, the JS API's included: the bindings export them
// (CacheCore.defaults()) and js/options.ts fills every option a user leaves out from them.
struct CacheConfig {
  IndexParams index;                   // space, dim, M, ef; initialCapacity is per scope
  EvictionPolicy policy = EvictionPolicy::LRU;
  uint64_t maxEntries = 100000;        // 0 = unlimited
  uint64_t maxBytes = 0;               // answer bytes + vector bytes; 0 = unlimited
  double evictFraction = 0.02;         // over a limit, evict down to (1 - this) of it in one batch
  float threshold = 0.9f;              // default cosine threshold for a hit
  std::string evaluator = "cosine";    // "cosine" | "margin" | "learned" (needs a model loaded)
  float margin = 0.02f;                // for "margin": required lead over the runner-up
  float maxFalseHitRate = 0.02f;       // for "learned": target share of non-duplicates that hit
  uint32_t candidates = 4;             // how many neighbours a lookup ranks and returns
  // Exact-match keys hash the prompt's normalized form (text/normalize.h), the form the caller
  // embeds: "How do I…?" and "how do i…" are one key, so a repeat needs no embedding. Fixed
  // when the cache is created (the keys of stored entries depend on it). Default on, as the JS
  // API's `normalize`.
  bool normalizedKeys = true;
};

struct Entry {  // 64 bytes in wasm32 (ordered to leave no padding): a million of them live here
  uint32_t id = 0;
  uint32_t scope = 0;        // index into the scope table
  uint32_t answerBytes = 0;
  float offset = 0;          // feedback's adjustment of this entry's threshold, in score units
  uint64_t promptHash = 0;   // the exact-match key: xxh64 of the prompt (or of its normalized form)
  double created = 0;        // ms, caller's clock
  double lastAccess = 0;
  double expiresAt = 0;      // 0 = never
  uint32_t hits = 0;
  float lastScore = 0;       // the evaluator's score at this entry's last semantic hit
  // The prompt's signature: the learned evaluator's view of it. Null unless the evaluator
  // needsSignatures() (held apart: 52 bytes of empty lists per entry otherwise).
  std::shared_ptr<const Signature> sig = nullptr;
};

// feedback(): a wrong hit raises the entry's threshold past the score that let it in (and by at
// least kFeedbackRaise); each confirmed right hit lowers it by kFeedbackLower, down to
// kFeedbackMinOffset (so a run of right hits can make an entry slightly more permissive).
constexpr float kFeedbackRaise = 0.05f, kFeedbackLower = 0.01f, kFeedbackMinOffset = -0.05f, kFeedbackMaxOffset = 1.f;

struct LookupOptions {
  float threshold = std::numeric_limits<float>::quiet_NaN();  // NaN: the config's
  uint32_t k = 0;   // 0: the config's candidates
  uint32_t ef = 0;  // 0: the index's efSearch
};

struct LookupResult {
  bool hit = false;
  bool exact = false;          // matched by prompt hash, no vector search
  uint32_t id = 0;             // the hit, or the best candidate on a miss (0 if none)
  float similarity = 0.f;      // cosine of that entry (1 for an exact match)
  float score = 0.f;           // the evaluator's score for it (1 for an exact match)
  std::vector<Candidate> candidates;  // ranked, best first, live entries of this scope only
  std::vector<uint32_t> expired;      // entries found expired and removed: delete their rows
  double searchMs = 0, evaluateMs = 0;
};

struct PutResult {
  uint32_t id = 0;
  uint32_t replaced = 0;               // the same prompt in the same scope, now removed
  std::vector<uint32_t> evicted;       // removed to respect limits or TTL: delete their rows
};

struct CacheStats {
  uint64_t lookups = 0, hits = 0, exactHits = 0, misses = 0, puts = 0;
  uint64_t evictions = 0, expirations = 0, removals = 0;
  uint64_t entries = 0, bytes = 0, scopes = 0;
  double searchMs = 0, evaluateMs = 0, putMs = 0, evictMs = 0;
};

class Cache {
 public:
  explicit Cache(const CacheConfig& config);
  ~Cache();

  const CacheConfig& config() const { return config_; }
  size_t dim() const { return config_.index.dim; }
  size_t vectorBytes() const;

  // Exact prompt match within the scope: needs no embedding. Touches the entry on a hit.
  LookupResult lookupExact(std::string_view scope, std::string_view prompt, double now);
  // vector: n floats (n must equal dim; any finite non-zero vector, normalized here).
  LookupResult lookup(std::string_view scope, const float* vector, size_t n, double now, const LookupOptions& opt);
  // The same with the prompt text, which the learned evaluator needs (its signature).
  LookupResult lookup(std::string_view scope, std::string_view prompt, const float* vector, size_t n, double now,
                      const LookupOptions& opt);
  // ttlMs <= 0: no expiry. Throws CAPACITY if one entry alone exceeds maxBytes.
  PutResult put(std::string_view scope, std::string_view prompt, const float* vector, size_t n,
                uint32_t answerBytes, double now, double ttlMs);
  // Rebuild from persisted rows, keeping ids, timestamps, hits and offset (e's promptHash and sig
  // are computed here from the prompt). Limits are not enforced here: call enforceLimits afterwards.
  void restore(const Entry& e, std::string_view scope, std::string_view prompt, const float* vector, size_t n);

  bool remove(uint32_t id);
  // Tells the cache whether a hit on entry id was right; returns the entry's new offset.
  float feedback(uint32_t id, bool correct);
  // A semantic hit on entry id decided on a copy of this cache's entries (a page that keeps one):
  // counted and recorded as a lookup here records its hit (hits, last access, the score that
  // feedback() reads). False, and nothing counted, when the entry is gone or expired.
  bool noteHit(uint32_t id, float score, double now);
  // Replaces the evaluator model (bytes of an "SMEV" file); reconfigures a 'learned' evaluator.
  void loadEvaluatorModel(const uint8_t* data, size_t size);
  const EvaluatorModel* evaluatorModel() const { return model_.get(); }
  float baseThreshold() const { return evaluator_->baseThreshold(config_.threshold); }
  std::vector<uint32_t> clearScope(std::string_view scope);
  void clear();
  std::vector<uint32_t> purgeExpired(double now);
  std::vector<uint32_t> enforceLimits(double now, uint32_t protect = 0);
  // Removes up to n entries whatever the limits (a full store): the expired ones first, then by
  // the eviction policy, never those in `protect`. Returns their ids.
  std::vector<uint32_t> evict(size_t n, double now, std::span<const uint32_t> protect = {});
  // Limits, policy, evaluator, threshold, efSearch. INVALID_ARGUMENT when the new evaluator needs
  // prompt signatures that the entries here were stored without (restore them from their rows).
  void configure(const CacheConfig& config);

  const Entry* find(uint32_t id) const;
  const std::string& scopeKey(uint32_t scope) const;
  std::vector<uint32_t> ids(std::string_view scope) const;  // all ids, or one scope's ("" = all)
  std::vector<float> vector(uint32_t id) const;
  CacheStats stats() const;
  CacheMemory memory() const;  // heap held, by part (common/memory.h)
  uint32_t nextId() const { return nextId_; }

  // seq is the caller's write sequence number at snapshot time (returned by loadSnapshot).
  // The whole snapshot at once; SnapshotWriter (cache/snapshot.h) writes it in slices.
  std::vector<uint8_t> snapshot(uint64_t seq);
  // Replaces the whole state. SNAPSHOT_MISMATCH if dim or space differ from the config, or if
  // the evaluator needs prompt signatures and the snapshot was written without them.
  // SnapshotLoader reads it as a stream.
  uint64_t loadSnapshot(const uint8_t* data, size_t size);

  static uint64_t hashPrompt(std::string_view prompt);
  // The exact-match key of a prompt under this cache's config (normalizedKeys).
  uint64_t exactKey(std::string_view prompt) const;

 private:
  friend class SnapshotWriter;
  friend class SnapshotLoader;
  struct Scope {
    std::string key;
    std::unique_ptr<VectorIndex> index;
    std::unordered_map<uint64_t, uint32_t> exact;  // prompt hash -> id
  };
  Scope& scopeFor(std::string_view key);
  Scope* findScope(std::string_view key);
  void normalize(const float* v, size_t n);  // into unit_
  void insert(const Entry& e, Scope& s);
  void erase(uint32_t id);
  uint64_t entryBytes(const Entry& e) const { return e.answerBytes + vectorBytes(); }
  bool needsSignatures() const { return evaluator_->needsSignatures(); }
  // Evicts by policy (skipping `protect`) while more() says so; appends the ids to out.
  void evictByPolicy(const std::function<bool()>& more, std::span<const uint32_t> protect, std::vector<uint32_t>& out);

  CacheConfig config_;
  std::unique_ptr<SimilarityEvaluator> evaluator_;
  std::shared_ptr<const EvaluatorModel> model_;
  LookupResult search(std::string_view scope, const Signature* query, const float* vector, size_t n, double now,
                      const LookupOptions& opt);
  std::vector<std::unique_ptr<Scope>> scopes_;             // slots; null when the scope emptied
  std::unordered_map<std::string, uint32_t> scopeIndex_;   // key -> slot
  std::unordered_map<uint32_t, Entry> entries_;
  uint32_t nextId_ = 1;
  uint64_t bytes_ = 0;
  bool signatures_ = true;  // every entry carries its prompt signature (the snapshot says so too)
  CacheStats stats_;
  std::vector<float> unit_;  // normalized input vector
  // A snapshot being written in slices: told of every change (see cache/snapshot.h).
  SnapshotWriter* writer_ = nullptr;
  void entryChanged(uint32_t id);
  void scopeChanged(uint32_t slot);
  void cancelSnapshot();  // detaches (and aborts, unless complete) the writer; stops tracking
};

}  // namespace semcache
