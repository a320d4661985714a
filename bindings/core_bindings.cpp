// Embind surface of the cache core. Vectors cross through a scratch buffer in wasm memory that
// JS fills with one HEAPF32.set (no per-element conversion); results come back as plain objects
// and typed-array copies. Every entry point goes through guard(), so C++ errors reach JS as
// {name: 'SemcacheError', code, message}.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "cache/cache.h"
#include "cache/learned.h"
#include "cache/snapshot.h"
#include "js_error.h"

using emscripten::val;
using semcache::bind::guard;

namespace semcache::bind {
namespace {

template <class T>
T opt(const val& o, const char* key, T fallback) {
  val v = o[key];
  return v.isUndefined() || v.isNull() ? fallback : v.as<T>();
}

CacheConfig parseConfig(const val& o, const CacheConfig& base) {
  CacheConfig c = base;
  c.index.dim = opt<uint32_t>(o, "dimensions", c.index.dim);
  if (!o["space"].isUndefined()) c.index.space = parseSpace(o["space"].as<std::string>());
  c.index.M = opt<uint32_t>(o, "M", c.index.M);
  c.index.efConstruction = opt<uint32_t>(o, "efConstruction", c.index.efConstruction);
  c.index.efSearch = opt<uint32_t>(o, "efSearch", c.index.efSearch);
  c.index.seed = opt<uint32_t>(o, "seed", c.index.seed);
  c.index.flatLimit = opt<uint32_t>(o, "flatLimit", c.index.flatLimit);
  if (!o["eviction"].isUndefined()) c.policy = parsePolicy(o["eviction"].as<std::string>());
  c.maxEntries = uint64_t(opt<double>(o, "maxEntries", double(c.maxEntries)));
  c.maxBytes = uint64_t(opt<double>(o, "maxBytes", double(c.maxBytes)));
  c.evictFraction = opt<double>(o, "evictFraction", c.evictFraction);
  c.threshold = opt<float>(o, "threshold", c.threshold);
  if (!o["evaluator"].isUndefined()) c.evaluator = o["evaluator"].as<std::string>();
  c.margin = opt<float>(o, "margin", c.margin);
  c.maxFalseHitRate = opt<float>(o, "maxFalseHitRate", c.maxFalseHitRate);
  c.candidates = opt<uint32_t>(o, "candidates", c.candidates);
  c.normalizedKeys = opt<bool>(o, "normalizedKeys", c.normalizedKeys);
  return c;
}

// Every field parseConfig reads, as JS sees them: CacheCore.defaults() and config().
val configOut(const CacheConfig& c) {
  val o = val::object();
  o.set("dimensions", c.index.dim);
  o.set("space", std::string(spaceName(c.index.space)));
  o.set("M", c.index.M);
  o.set("efConstruction", c.index.efConstruction);
  o.set("efSearch", c.index.efSearch);
  o.set("seed", c.index.seed);
  o.set("flatLimit", c.index.flatLimit);
  o.set("eviction", std::string(policyName(c.policy)));
  o.set("maxEntries", double(c.maxEntries));
  o.set("maxBytes", double(c.maxBytes));
  o.set("evictFraction", c.evictFraction);
  o.set("threshold", c.threshold);
  o.set("evaluator", c.evaluator);
  o.set("margin", c.margin);
  o.set("maxFalseHitRate", c.maxFalseHitRate);
  o.set("candidates", c.candidates);
  o.set("normalizedKeys", c.normalizedKeys);
  return o;
}

std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

template <class T>
val copyOut(const T* p, size_t n) {  // a JS-owned copy: views into wasm memory die on growth
  return val(emscripten::typed_memory_view(n, p)).call<val>("slice");
}

val idsOut(const std::vector<uint32_t>& ids) { return copyOut(ids.data(), ids.size()); }

val lookupOut(const LookupResult& r) {
  val o = val::object();
  o.set("hit", r.hit);
  o.set("exact", r.exact);
  o.set("id", r.id);
  o.set("similarity", r.similarity);
  o.set("score", r.score);
  std::vector<uint32_t> ids;
  std::vector<float> sims;
  for (const Candidate& c : r.candidates) ids.push_back(c.id), sims.push_back(c.similarity);
  o.set("candidateIds", idsOut(ids));
  o.set("candidateSimilarities", copyOut(sims.data(), sims.size()));
  o.set("expired", idsOut(r.expired));
  o.set("searchMs", r.searchMs);
  o.set("evaluateMs", r.evaluateMs);
  return o;
}

class CacheCore {
 public:
  explicit CacheCore(const CacheConfig& config) : cache_(config), vec_(cache_.dim()) {}
  static CacheCore* create(val config) {
    return guard([&] { return new CacheCore(parseConfig(config, CacheConfig{})); });
  }
  static val defaults() { return configOut(CacheConfig{}); }
  val config() const { return configOut(cache_.config()); }

  // JS writes a query or entry vector here (dimensions floats) before lookup/put/restore.
  uintptr_t vectorBuffer() { return reinterpret_cast<uintptr_t>(vec_.data()); }
  uint32_t dimensions() const { return uint32_t(cache_.dim()); }

  val lookupExact(const std::string& scope, const std::string& prompt, double now) {
    return guard([&] { return lookupOut(cache_.lookupExact(scope, prompt, now)); });
  }

  val lookup(const std::string& scope, const std::string& prompt, uint32_t n, double now, val options) {
    return guard([&] {
      LookupOptions o;
      o.threshold = opt<float>(options, "threshold", NAN);
      o.k = opt<uint32_t>(options, "k", 0);
      o.ef = opt<uint32_t>(options, "ef", 0);
      checkLength(n);
      return lookupOut(cache_.lookup(scope, prompt, vec_.data(), n, now, o));
    });
  }

  val put(const std::string& scope, const std::string& prompt, uint32_t n, double answerBytes, double now, double ttlMs) {
    return guard([&] {
      checkLength(n);
      if (!(answerBytes >= 0 && answerBytes <= 4294967295.0))
        throw Error(codes::kInvalidArgument, "answer size must be in 0..4 GiB");
      PutResult r = cache_.put(scope, prompt, vec_.data(), n, uint32_t(answerBytes), now, ttlMs);
      val o = val::object();
      o.set("id", r.id);
      o.set("replaced", r.replaced);
      o.set("evicted", idsOut(r.evicted));
      o.set("promptHash", hex64(cache_.exactKey(prompt)));
      return o;
    });
  }

  void restore(val row, uint32_t n) {
    guard([&] {
      checkLength(n);
      Entry e;
      e.id = row["id"].as<uint32_t>();
      e.offset = opt<float>(row, "thresholdOffset", 0.f);
      if (!std::isfinite(e.offset)) throw Error(codes::kNotFinite, "thresholdOffset must be finite");
      e.answerBytes = row["answerBytes"].as<uint32_t>();
      e.created = row["created"].as<double>();
      e.lastAccess = row["lastAccess"].as<double>();
      e.expiresAt = row["expiresAt"].as<double>();
      e.hits = row["hits"].as<uint32_t>();
      cache_.restore(e, row["scope"].as<std::string>(), row["prompt"].as<std::string>(), vec_.data(), n);
      return 0;
    });
  }

  bool remove(uint32_t id) { return guard([&] { return cache_.remove(id); }); }
  float feedback(uint32_t id, bool correct) { return guard([&] { return cache_.feedback(id, correct); }); }
  bool noteHit(uint32_t id, float score, double now) { return guard([&] { return cache_.noteHit(id, score, now); }); }
  // bytes were copied by JS into memory it got from _malloc; JS frees them afterwards.
  void loadEvaluatorModel(uintptr_t ptr, uint32_t size) {
    guard([&] { cache_.loadEvaluatorModel(reinterpret_cast<const uint8_t*>(ptr), size); return 0; });
  }
  float baseThreshold() const { return cache_.baseThreshold(); }
  val clearScope(const std::string& scope) { return guard([&] { return idsOut(cache_.clearScope(scope)); }); }
  void clear() { cache_.clear(); }
  val purgeExpired(double now) { return guard([&] { return idsOut(cache_.purgeExpired(now)); }); }
  val enforceLimits(double now) { return guard([&] { return idsOut(cache_.enforceLimits(now)); }); }
  // protect: ids (an array) that must stay.
  val evict(double n, double now, val protect) {
    return guard([&] {
      if (!(n >= 0 && n <= 4294967295.0)) throw Error(codes::kInvalidArgument, "evict needs a count in 0..2^32-1");
      auto keep = protect.isUndefined() || protect.isNull() ? std::vector<uint32_t>{}
                                                           : emscripten::convertJSArrayToNumberVector<uint32_t>(protect);
      return idsOut(cache_.evict(size_t(n), now, keep));
    });
  }
  void configure(val config) { guard([&] { cache_.configure(parseConfig(config, cache_.config())); return 0; }); }

  val entry(uint32_t id) {
    return guard([&] {
      const Entry* e = cache_.find(id);
      if (!e) return val::null();
      val o = val::object();
      o.set("id", e->id);
      o.set("scope", cache_.scopeKey(e->scope));
      o.set("promptHash", hex64(e->promptHash));
      o.set("answerBytes", e->answerBytes);
      o.set("created", e->created);
      o.set("lastAccess", e->lastAccess);
      o.set("expiresAt", e->expiresAt);
      o.set("hits", e->hits);
      o.set("thresholdOffset", e->offset);
      o.set("lastScore", e->lastScore);
      return o;
    });
  }

  val ids(const std::string& scope) { return guard([&] { return idsOut(cache_.ids(scope)); }); }
  val vector(uint32_t id) {
    return guard([&] {
      auto v = cache_.vector(id);
      return copyOut(v.data(), v.size());
    });
  }

  val stats() const {
    CacheStats s = cache_.stats();
    val o = val::object();
    o.set("lookups", double(s.lookups));
    o.set("hits", double(s.hits));
    o.set("exactHits", double(s.exactHits));
    o.set("misses", double(s.misses));
    o.set("puts", double(s.puts));
    o.set("evictions", double(s.evictions));
    o.set("expirations", double(s.expirations));
    o.set("removals", double(s.removals));
    o.set("entries", double(s.entries));
    o.set("bytes", double(s.bytes));
    o.set("scopes", double(s.scopes));
    o.set("searchMs", s.searchMs);
    o.set("evaluateMs", s.evaluateMs);
    o.set("putMs", s.putMs);
    o.set("evictMs", s.evictMs);
    return o;
  }

  val snapshot(double seq) {
    return guard([&] {
      auto bytes = cache_.snapshot(uint64_t(seq));
      return copyOut(bytes.data(), bytes.size());
    });
  }

  // bytes were copied by JS into memory it got from _malloc; JS frees them afterwards.
  double loadSnapshot(uintptr_t ptr, uint32_t size) {
    return guard([&] { return double(cache_.loadSnapshot(reinterpret_cast<const uint8_t*>(ptr), size)); });
  }

  // A snapshot in slices while the cache keeps serving (cache/snapshot.h): begin, then next()
  // until done; each slice is a JS copy of about maxBytes. A clear() or a loaded snapshot in
  // between makes next() throw ABORTED.
  void snapshotBegin() {
    guard([&] {
      writer_.reset();
      writer_ = std::make_unique<SnapshotWriter>(cache_);
    });
  }
  val snapshotNext(double maxBytes, double seq) { return nextSlice(maxBytes, seq, true); }
  // The same slice as a view into wasm memory, valid until the next call into the core: for a
  // writer that consumes it at once. A 1M-entry snapshot is ~750 MB of slices, which as copies
  // became that much short-lived garbage in the worker that writes them.
  val snapshotNextView(double maxBytes, double seq) { return nextSlice(maxBytes, seq, false); }
  void snapshotAbort() { writer_.reset(); }

  // Loading as a stream: JS copies each chunk into wasm memory it got from _malloc, pushes it,
  // and frees or reuses it; the cache changes only when loadFinish() succeeds.
  void loadBegin(double totalBytes) {
    guard([&] {
      loader_.reset();
      loader_ = std::make_unique<SnapshotLoader>(cache_, uint64_t(totalBytes));
    });
  }
  void loadPush(uintptr_t ptr, uint32_t size) {
    guard([&] {
      if (!loader_) throw Error(codes::kInvalidArgument, "no load in progress: call loadBegin()");
      loader_->push(reinterpret_cast<const uint8_t*>(ptr), size);
    });
  }
  double loadFinish() {
    return guard([&] {
      if (!loader_) throw Error(codes::kInvalidArgument, "no load in progress: call loadBegin()");
      auto loader = std::move(loader_);
      return double(loader->finish());
    });
  }
  void loadAbort() { loader_.reset(); }

  static std::string hashPrompt(const std::string& prompt) { return hex64(Cache::hashPrompt(prompt)); }

 private:
  void checkLength(uint32_t n) const {
    if (n != cache_.dim())
      throw Error(codes::kDimensionMismatch, "vector has " + std::to_string(n) + " dimensions, the cache expects " +
                                                 std::to_string(cache_.dim()));
  }

  Cache cache_;
  std::vector<float> vec_;
  // After cache_: destroyed first, while the cache they point to still exists.
  std::unique_ptr<SnapshotWriter> writer_;
  ByteWriter slice_;

  val nextSlice(double maxBytes, double seq, bool copy) {
    return guard([&] {
      if (!writer_) throw Error(codes::kInvalidArgument, "no snapshot in progress: call snapshotBegin()");
      if (slice_.bytes().capacity() > (size_t(8) << 20)) slice_ = ByteWriter();  // keep no big buffer
      slice_.clear();
      bool done = writer_->next(slice_, size_t(std::max(1.0, maxBytes)), uint64_t(seq));
      val o = val::object();
      o.set("bytes", copy ? copyOut(slice_.bytes().data(), slice_.size())
                          : val(emscripten::typed_memory_view(slice_.size(), slice_.bytes().data())));
      o.set("done", done);
      if (done) writer_.reset();
      return o;
    });
  }
  std::unique_ptr<SnapshotLoader> loader_;
};

std::vector<float> floatsOf(const val& arr, const char* what) {
  if (arr.isUndefined() || arr.isNull()) throw Error(codes::kInvalidArgument, std::string("weights need ") + what);
  return emscripten::convertJSArrayToNumberVector<float>(arr);
}

// The evaluator model outside a cache: what the trainer computes features and writes files with.
class EvaluatorModelCore {
 public:
  explicit EvaluatorModelCore(std::shared_ptr<const EvaluatorModel> m) : m_(std::move(m)) {}
  static EvaluatorModelCore* create(uintptr_t ptr, uint32_t size) {
    return guard([&] { return new EvaluatorModelCore(EvaluatorModel::load(reinterpret_cast<const uint8_t*>(ptr), size)); });
  }
  // docs: one document per line. Returns the bytes of an IDF-only model file.
  static val fromCorpus(const std::string& docs, uint32_t minDf) {
    return guard([&] {
      std::vector<std::string_view> lines;
      size_t i = 0;
      while (i <= docs.size()) {
        size_t j = docs.find('\n', i);
        if (j == std::string::npos) j = docs.size();
        if (j > i) lines.push_back(std::string_view(docs).substr(i, j - i));
        i = j + 1;
      }
      auto bytes = EvaluatorModel::fromCorpus(lines, minDf).serialize();
      return copyOut(bytes.data(), bytes.size());
    });
  }
  static val featureNames() {
    static const char* names[kNumFeatures] = {"cosine", "margin", "queryOnly", "cachedOnly", "diffMass", "maxDiffIdf",
                                              "weightedJaccard", "numberDiff", "numberClash", "negationDiff",
                                              "polarityClash", "polarityOnly", "nameDiff", "lengthRatio",
                                              "questionDiff", "sharedMass", "projCosine", "entityClash",
                                              "orderClash"};
    val a = val::array();
    for (const char* n : names) a.call<void>("push", val(n));
    return a;
  }

  // q, c: the two unit embeddings when the model has a projection (else null or undefined).
  val features(const std::string& query, const std::string& cached, float cosine, float margin, val q, val c) {
    return guard([&] {
      std::vector<float> qv, cv;
      if (!q.isNull() && !q.isUndefined()) qv = floatsOf(q, "q"), cv = floatsOf(c, "c");
      if (m_->projRows() && (qv.size() != m_->projCols() || cv.size() != m_->projCols()))
        throw Error(codes::kInvalidArgument, "this model needs two " + std::to_string(m_->projCols()) + "-d embeddings");
      float f[kNumFeatures];
      m_->features(makeSignature(query), makeSignature(cached), cosine, margin, f, qv.empty() ? nullptr : qv.data(),
                   cv.empty() ? nullptr : cv.data());
      return copyOut(f, kNumFeatures);
    });
  }
  // The bytes of this model with the projection P (rows x cols floats, row-major) installed.
  val withProjection(uint32_t rows, uint32_t cols, val p) {
    return guard([&] {
      EvaluatorModel m = *m_;
      auto v = floatsOf(p, "projection");
      m.setProjection(rows, cols, v);
      auto bytes = m.serialize();
      return copyOut(bytes.data(), bytes.size());
    });
  }
  uint32_t projRows() const { return m_->projRows(); }
  float predict(const std::string& query, const std::string& cached, float cosine, float margin) {
    return guard([&] {
      float f[kNumFeatures];
      m_->features(makeSignature(query), makeSignature(cached), cosine, margin, f);
      return m_->predict(f);
    });
  }
  // q, c: the two unit embeddings (needed when the model has an embedding metric), else null.
  float predictFeatures(val features, val q, val c) {
    return guard([&] {
      auto f = floatsOf(features, "features");
      if (f.size() != kNumFeatures) throw Error(codes::kInvalidArgument, "expected " + std::to_string(kNumFeatures) + " features");
      std::vector<float> qv, cv;
      if (!q.isNull() && !q.isUndefined()) qv = floatsOf(q, "q"), cv = floatsOf(c, "c");
      if (m_->embDim() && (qv.size() != m_->embDim() || cv.size() != m_->embDim()))
        throw Error(codes::kInvalidArgument, "this model needs two " + std::to_string(m_->embDim()) + "-d embeddings");
      return m_->predict(f.data(), qv.empty() ? nullptr : qv.data(), cv.empty() ? nullptr : cv.data());
    });
  }
  uint32_t embDim() const { return m_->embDim(); }
  float thresholdFor(float rate) { return guard([&] { return m_->thresholdFor(rate); }); }
  bool hasWeights() const { return m_->hasWeights(); }
  uint32_t vocabulary() const { return uint32_t(m_->vocabulary()); }
  std::string info() const { return m_->info(); }

  // w: {hidden, mean, std, w1, b1, w2, b2, calibration: [{falseHitRate, threshold}], info}.
  // Returns the bytes of this model (its IDF table) with those weights.
  val withWeights(val w) {
    return guard([&] {
      EvaluatorModel m = *m_;
      std::vector<Calibration> cal;
      val c = w["calibration"];
      uint32_t nc = c.isUndefined() ? 0 : c["length"].as<uint32_t>();
      for (uint32_t i = 0; i < nc; ++i)
        cal.push_back({c[i]["falseHitRate"].as<float>(), c[i]["threshold"].as<float>()});
      m.setWeights(opt<uint32_t>(w, "hidden", 0), floatsOf(w["mean"], "mean"), floatsOf(w["std"], "std"),
                   floatsOf(w["w1"], "w1"), floatsOf(w["b1"], "b1"),
                   w["w2"].isUndefined() ? std::vector<float>{} : floatsOf(w["w2"], "w2"), opt<float>(w, "b2", 0.f),
                   std::move(cal), opt<std::string>(w, "info", ""),
                   w["embA"].isUndefined() ? std::vector<float>{} : floatsOf(w["embA"], "embA"),
                   w["embB"].isUndefined() ? std::vector<float>{} : floatsOf(w["embB"], "embB"),
                   opt<uint32_t>(w, "vetoes", 0));
      auto bytes = m.serialize();
      return copyOut(bytes.data(), bytes.size());
    });
  }

 private:
  std::shared_ptr<const EvaluatorModel> m_;
};

}  // namespace
}  // namespace semcache::bind

EMSCRIPTEN_BINDINGS(semcache_core) {
  using semcache::bind::CacheCore;
  emscripten::class_<CacheCore>("CacheCore")
      .constructor(&CacheCore::create, emscripten::allow_raw_pointers())
      .function("vectorBuffer", &CacheCore::vectorBuffer)
      .function("dimensions", &CacheCore::dimensions)
      .function("lookupExact", &CacheCore::lookupExact)
      .function("lookup", &CacheCore::lookup)
      .function("put", &CacheCore::put)
      .function("restore", &CacheCore::restore)
      .function("remove", &CacheCore::remove)
      .function("feedback", &CacheCore::feedback)
      .function("noteHit", &CacheCore::noteHit)
      .function("loadEvaluatorModel", &CacheCore::loadEvaluatorModel)
      .function("baseThreshold", &CacheCore::baseThreshold)
      .function("clearScope", &CacheCore::clearScope)
      .function("clear", &CacheCore::clear)
      .function("purgeExpired", &CacheCore::purgeExpired)
      .function("enforceLimits", &CacheCore::enforceLimits)
      .function("evict", &CacheCore::evict)
      .function("configure", &CacheCore::configure)
      .function("config", &CacheCore::config)
      .function("entry", &CacheCore::entry)
      .function("ids", &CacheCore::ids)
      .function("vector", &CacheCore::vector)
      .function("stats", &CacheCore::stats)
      .function("snapshot", &CacheCore::snapshot)
      .function("loadSnapshot", &CacheCore::loadSnapshot)
      .function("snapshotBegin", &CacheCore::snapshotBegin)
      .function("snapshotNext", &CacheCore::snapshotNext)
      .function("snapshotNextView", &CacheCore::snapshotNextView)
      .function("snapshotAbort", &CacheCore::snapshotAbort)
      .function("loadBegin", &CacheCore::loadBegin)
      .function("loadPush", &CacheCore::loadPush)
      .function("loadFinish", &CacheCore::loadFinish)
      .function("loadAbort", &CacheCore::loadAbort)
      .class_function("hashPrompt", &CacheCore::hashPrompt)
      .class_function("defaults", &CacheCore::defaults);

  using semcache::bind::EvaluatorModelCore;
  emscripten::class_<EvaluatorModelCore>("EvaluatorModel")
      .constructor(&EvaluatorModelCore::create, emscripten::allow_raw_pointers())
      .function("features", &EvaluatorModelCore::features)
      .function("predict", &EvaluatorModelCore::predict)
      .function("predictFeatures", &EvaluatorModelCore::predictFeatures)
      .function("withProjection", &EvaluatorModelCore::withProjection)
      .function("projRows", &EvaluatorModelCore::projRows)
      .function("thresholdFor", &EvaluatorModelCore::thresholdFor)
      .function("hasWeights", &EvaluatorModelCore::hasWeights)
      .function("embDim", &EvaluatorModelCore::embDim)
      .function("vocabulary", &EvaluatorModelCore::vocabulary)
      .function("info", &EvaluatorModelCore::info)
      .function("withWeights", &EvaluatorModelCore::withWeights)
      .class_function("fromCorpus", &EvaluatorModelCore::fromCorpus)
      .class_function("featureNames", &EvaluatorModelCore::featureNames);
}
