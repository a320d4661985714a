// Exact nearest neighbours for the `scale` bench (bench/scale.mjs): brute force in f32 over a
// file of n x dim vectors, for a file of queries, at several prefix sizes (the 100k cache holds
// the first 100k vectors of the 1M one). Reads the vectors once, in blocks, scoring every query
// against each block (the queries stay in cache).
//   scale_truth VECTORS QUERIES DIM PREFIX... > one line per prefix:
//     {"n":N,"top1":[ids...],"cos":[their cosines...]}
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>
#ifndef __EMSCRIPTEN__
#include <thread>
#endif

#include "index/kernels.h"

using semcache::kernels::dot_f32;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: scale_truth VECTORS QUERIES DIM PREFIX...\n");
    return 2;
  }
  const size_t dim = std::stoul(argv[3]);
  std::vector<size_t> prefixes;
  for (int i = 4; i < argc; ++i) prefixes.push_back(std::stoul(argv[i]));
  FILE* qf = std::fopen(argv[2], "rb");
  if (!qf) return std::perror(argv[2]), 1;
  std::vector<float> queries;
  for (float buf[4096]; size_t got = std::fread(buf, 4, 4096, qf);) queries.insert(queries.end(), buf, buf + got);
  std::fclose(qf);
  const size_t nq = queries.size() / dim;
  FILE* vf = std::fopen(argv[1], "rb");
  if (!vf) return std::perror(argv[1]), 1;
  std::vector<float> best(nq, -std::numeric_limits<float>::infinity());
  std::vector<long> top(nq, -1);
  std::vector<float> block(4096 * dim);
  size_t at = 0, next = 0;
  auto report = [&](size_t n) {
    std::printf("{\"n\":%zu,\"top1\":[", n);
    for (size_t q = 0; q < nq; ++q) std::printf("%s%ld", q ? "," : "", top[q]);
    std::printf("],\"cos\":[");
    for (size_t q = 0; q < nq; ++q) std::printf("%s%.4f", q ? "," : "", best[q]);
    std::printf("]}\n");
  };
  // Score query tiles against vector tiles (both in cache), the queries split across threads;
  // each query still meets the vectors in file order, so ties resolve as in one plain pass.
  auto score = [&](size_t q0, size_t q1, const float* vs, size_t count, size_t first) {
    constexpr size_t kQ = 32, kV = 128;
    for (size_t v0 = 0; v0 < count; v0 += kV)
      for (size_t qt = q0; qt < q1; qt += kQ)
        for (size_t q = qt; q < std::min(q1, qt + kQ); ++q)
          for (size_t i = v0; i < std::min(count, v0 + kV); ++i) {
            float s = dot_f32(&queries[q * dim], &vs[i * dim], dim);
            if (s > best[q]) best[q] = s, top[q] = long(first + i);
          }
  };
#ifdef __EMSCRIPTEN__
  const size_t threads = 1;
#else
  const size_t threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
#endif
  auto scoreAll = [&](const float* vs, size_t count, size_t first) {
#ifndef __EMSCRIPTEN__
    if (threads > 1 && nq >= 2 * threads) {
      std::vector<std::thread> pool;
      for (size_t t = 0; t < threads; ++t)
        pool.emplace_back(score, nq * t / threads, nq * (t + 1) / threads, vs, count, first);
      for (auto& th : pool) th.join();
      return;
    }
#endif
    score(0, nq, vs, count, first);
  };
  for (size_t got; (got = std::fread(block.data(), 4 * dim, 4096, vf)) > 0;) {
    // a prefix inside this block is reported when the scan reaches it
    for (size_t i = 0; i < got;) {
      if (next < prefixes.size() && at == prefixes[next]) {
        report(prefixes[next++]);
        continue;
      }
      size_t end = got;
      if (next < prefixes.size() && prefixes[next] < at + (got - i)) end = i + (prefixes[next] - at);
      scoreAll(&block[i * dim], end - i, at);
      at += end - i, i = end;
    }
  }
  std::fclose(vf);
  for (; next < prefixes.size(); ++next) {
    if (prefixes[next] > at) return std::fprintf(stderr, "only %zu vectors in %s\n", at, argv[1]), 1;
    report(prefixes[next]);
  }
  return 0;
}
