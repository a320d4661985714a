// ANN benchmark: one source, built natively (-O3 -march=native, hnswlib's AVX kernels) and to
// wasm (SIMD128 kernels, run under Node), so the two are measured on identical work.
// Data: n unit vectors drawn around `centres` random centres (shaped like real embeddings:
// clustered, cosine to the centre ~0.8), seeded. Queries are fresh draws from the same clusters.
// Prints one JSON line per space. recall_* is against brute force in the same space (the
// index's own error); recall_*_vs_f32 against exact f32 cosine (adds int8 rounding).
// Search latency is taken twice, labelled, over the same queries:
//   search_warm_*  searches back to back (after kWarmup searches for other queries): the graph's
//                  hot parts stay in the CPU caches, as in a cache that serves a stream of lookups;
//   search_cold_*  each search right after a brute-force scan of all n vectors (which also gives
//                  the recall's ground truth): the scan has evicted the graph from the caches, as
//                  for a lookup after a pause or after other work.
// brute_* is the exact scan, back to back (memory-bound: warm and cold differ little).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/kernels.h"
#include "index/vector_index.h"

using namespace semcache;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  size_t n = 100000, dim = 512, centres = 1000, queries = 1000, bruteQueries = 100;
  uint32_t M = 16, efC = 100, ef = IndexParams{}.efSearch;  // the library default
  std::string spaces = "f32,int8";
  std::string snapshotDir;  // reuse built indexes across runs (search-only iterations)
};

void normalize(float* v, size_t d) {
  double s = 0;
  for (size_t i = 0; i < d; ++i) s += double(v[i]) * v[i];
  float inv = float(1 / std::sqrt(s));
  for (size_t i = 0; i < d; ++i) v[i] *= inv;
}

// mt19937's raw output is specified by the standard; std::normal_distribution is not (libstdc++
// and Emscripten's libc++ differ), so draw normals by hand: both builds see identical data.
float gauss(std::mt19937& rng) {
  double u1 = (rng() + 1.0) / 4294967297.0, u2 = rng() / 4294967296.0;
  return float(std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

std::vector<float> clustered(size_t n, size_t dim, const std::vector<float>& centres, size_t nc, std::mt19937& rng) {
  std::vector<float> v(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = &centres[(rng() % nc) * dim];
    for (size_t j = 0; j < dim; ++j) v[i * dim + j] = c[j] + 0.03f * gauss(rng);
    normalize(&v[i * dim], dim);
  }
  return v;
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * v.size()))];
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--n") a.n = std::stoul(v);
    else if (k == "--dim") a.dim = std::stoul(v);
    else if (k == "--centres") a.centres = std::stoul(v);
    else if (k == "--queries") a.queries = std::stoul(v);
    else if (k == "--brute-queries") a.bruteQueries = std::stoul(v);
    else if (k == "--M") a.M = std::stoul(v);
    else if (k == "--efc") a.efC = std::stoul(v);
    else if (k == "--ef") a.ef = std::stoul(v);
    else if (k == "--spaces") a.spaces = v;
    else if (k == "--snapshot-dir") a.snapshotDir = v;
    else { std::fprintf(stderr, "unknown option %s\n", k.c_str()); return 2; }
  }
  std::mt19937 rng(42);
  std::vector<float> centres(a.centres * a.dim);
  for (auto& x : centres) x = gauss(rng);
  for (size_t c = 0; c < a.centres; ++c) normalize(&centres[c * a.dim], a.dim);
  auto data = clustered(a.n, a.dim, centres, a.centres, rng);
  auto queries = clustered(a.queries, a.dim, centres, a.centres, rng);
  const size_t kWarmup = 200;  // drawn after the queries, so the timed queries stay the same
  auto warmupQueries = clustered(kWarmup, a.dim, centres, a.centres, rng);

  // Exact f32 top-10 per query, computed once for both spaces.
  std::vector<std::vector<uint64_t>> truth(a.queries);
  {
    std::vector<float> sims(a.n);
    std::vector<uint32_t> order(a.n);
    for (size_t q = 0; q < a.queries; ++q) {
      for (size_t i = 0; i < a.n; ++i) sims[i] = kernels::dot_f32(&queries[q * a.dim], &data[i * a.dim], a.dim);
      for (size_t i = 0; i < a.n; ++i) order[i] = uint32_t(i);
      std::partial_sort(order.begin(), order.begin() + 10, order.end(),
                        [&](uint32_t x, uint32_t y) { return sims[x] > sims[y]; });
      truth[q].assign(order.begin(), order.begin() + 10);
    }
  }

  for (const char* sp : {"f32", "int8"}) {
    if (a.spaces.find(sp) == std::string::npos) continue;
    IndexParams p{.space = parseSpace(sp), .dim = uint32_t(a.dim), .M = a.M, .efConstruction = a.efC,
                  .efSearch = a.ef, .initialCapacity = uint32_t(a.n)};
    std::unique_ptr<VectorIndex> built;
    double buildS = -1;  // -1: loaded from --snapshot-dir
    // hnswlib stores labels as size_t: wasm32 and native snapshots differ, so name both.
    std::string snap = a.snapshotDir.empty()
                           ? ""
                           : a.snapshotDir + "/ann-" + sp + "-" + std::to_string(a.n) + "x" + std::to_string(a.dim) +
                                 "-c" + std::to_string(a.centres) + "-M" + std::to_string(a.M) + "-efc" +
                                 std::to_string(a.efC) + "-" + std::to_string(sizeof(size_t) * 8) + "bit.smix";
    if (FILE* f = snap.empty() ? nullptr : std::fopen(snap.c_str(), "rb")) {
      std::vector<uint8_t> bytes;
      uint8_t buf[1 << 16];
      for (size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.insert(bytes.end(), buf, buf + got);
      std::fclose(f);
      try {
        built = VectorIndex::fromSnapshot(bytes.data(), bytes.size());
        built->setEfSearch(a.ef);
      } catch (const std::exception& e) {  // an older format, say: build it again
        std::fprintf(stderr, "%s: %s; rebuilding\n", snap.c_str(), e.what());
      }
    }
    if (!built) {
      built = std::make_unique<VectorIndex>(p);
      auto t0 = Clock::now();
      for (size_t i = 0; i < a.n; ++i) built->add(i, &data[i * a.dim]);
      buildS = since(t0);
      if (!snap.empty()) {
        auto bytes = built->snapshot();
        FILE* out = std::fopen(snap.c_str(), "wb");
        if (!out || std::fwrite(bytes.data(), 1, bytes.size(), out) != bytes.size()) {
          std::fprintf(stderr, "cannot write %s\n", snap.c_str());
          return 1;
        }
        std::fclose(out);
      }
    }
    VectorIndex& idx = *built;

    // Warm: back to back, after searches for other queries.
    for (size_t q = 0; q < kWarmup; ++q) idx.search(&warmupQueries[q * a.dim], 10);
    std::vector<double> warmUs, coldUs, bruteUs;
    for (size_t q = 0; q < a.queries; ++q) {
      auto ts = Clock::now();
      auto res = idx.search(&queries[q * a.dim], 10);
      warmUs.push_back(since(ts) * 1e6);
      if (res.empty()) return 1;
    }
    // Cold: each search after an exact scan of the whole index (the recall's ground truth).
    size_t hit1 = 0, hit10 = 0, same1 = 0, same10 = 0;
    for (size_t q = 0; q < a.queries; ++q) {
      const float* qv = &queries[q * a.dim];
      // Against brute force in the index's own space: the graph's error alone, without the
      // int8 rounding (for f32 the two agree up to float summation order).
      auto exact = idx.exactSearch(qv, 10);
      auto ts = Clock::now();
      auto res = idx.search(qv, 10);
      coldUs.push_back(since(ts) * 1e6);
      const auto& t = truth[q];
      if (!res.empty() && res[0].label == t[0]) hit1++;
      for (auto& h : res) hit10 += std::count(t.begin(), t.end(), h.label);
      std::set<uint64_t> exact10;
      for (auto& h : exact) exact10.insert(h.label);
      if (!res.empty() && !exact.empty() && res[0].label == exact[0].label) same1++;
      for (auto& h : res) same10 += exact10.count(h.label);
    }
    // Brute-force baseline: the index's own exact scan (same SIMD kernels, same space).
    for (size_t q = 0; q < std::min(a.bruteQueries, a.queries); ++q) {
      auto ts = Clock::now();
      auto res = idx.exactSearch(&queries[q * a.dim], 10);
      bruteUs.push_back(since(ts) * 1e6);
      if (res.empty()) return 1;
    }
    std::printf(
        "{\"space\":\"%s\",\"n\":%zu,\"dim\":%zu,\"M\":%u,\"ef_construction\":%u,\"ef_search\":%u,"
        "\"build_s\":%.2f,\"search_warm_p50_us\":%.1f,\"search_warm_p99_us\":%.1f,\"search_cold_p50_us\":%.1f,"
        "\"search_cold_p99_us\":%.1f,\"brute_p50_us\":%.1f,"
        "\"recall_at_1\":%.4f,\"recall_at_10\":%.4f,\"recall_at_1_vs_f32\":%.4f,\"recall_at_10_vs_f32\":%.4f}\n",
        sp, a.n, a.dim, a.M, a.efC, a.ef, buildS, pct(warmUs, 0.5), pct(warmUs, 0.99), pct(coldUs, 0.5),
        pct(coldUs, 0.99), pct(bruteUs, 0.5),
        double(same1) / a.queries, double(same10) / (a.queries * 10.0), double(hit1) / a.queries,
        double(hit10) / (a.queries * 10.0));
    std::fflush(stdout);
  }
  return 0;
}
