// recall@1 of the cache's index (VectorIndex, int8 space, HNSW) against exact f32 cosine, for
// sets of queries over one file of vectors, at several efSearch: the `graph-data` bench
// (bench/graph-data.mjs) runs it on real embeddings and on the synthetic data of the `scale`
// bench, to see which synthetic data a graph finds as hard as real data.
//   ann_grid VECTORS N M[/EFC] EF,EF,... QUERIES...   (EFC: efConstruction, default the index's)
//     > one line per query file: {"queries":FILE,"top1_cos_p50":C,"recall_at_1":{"EF":R,...},"search_us":{"EF":T,...}}
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "index/kernels.h"
#include "index/vector_index.h"

using namespace semcache;

static std::vector<float> readFloats(const char* file) {
  FILE* f = std::fopen(file, "rb");
  if (!f) std::perror(file), std::exit(1);
  std::vector<float> v;
  for (float buf[4096]; size_t got = std::fread(buf, 4, 4096, f);) v.insert(v.end(), buf, buf + got);
  std::fclose(f);
  return v;
}

int main(int argc, char** argv) {
  if (argc < 6) return std::fprintf(stderr, "usage: ann_grid VECTORS N M[/EFC] EF,EF,... QUERIES...\n"), 2;
  const size_t dim = 512, n = std::stoul(argv[2]);
  const auto data = readFloats(argv[1]);
  if (data.size() < n * dim) return std::fprintf(stderr, "%s holds fewer than %zu vectors\n", argv[1], n), 1;
  std::vector<size_t> efs;
  for (std::string s = argv[4]; !s.empty();) {
    size_t c = s.find(',');
    efs.push_back(std::stoul(s.substr(0, c)));
    s = c == std::string::npos ? "" : s.substr(c + 1);
  }
  IndexParams p;
  const std::string m = argv[3];
  p.space = SpaceKind::Int8, p.dim = dim, p.M = std::stoul(m);
  if (m.find('/') != std::string::npos) p.efConstruction = std::stoul(m.substr(m.find('/') + 1));
  auto b0 = std::chrono::steady_clock::now();
  VectorIndex index(p);
  for (size_t i = 0; i < n; ++i) index.add(i, &data[i * dim]);
  std::fprintf(stderr, "ann_grid: built %zu (M %u, efConstruction %u) in %.1f s\n", n, p.M, p.efConstruction,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count());
  for (int f = 5; f < argc; ++f) {
    const auto q = readFloats(argv[f]);
    const size_t nq = q.size() / dim;
    std::vector<size_t> truth(nq);
    std::vector<float> best(nq, -2);
    for (size_t k = 0; k < nq; ++k)
      for (size_t i = 0; i < n; ++i) {
        float s = kernels::dot_f32(&q[k * dim], &data[i * dim], dim);
        if (s > best[k]) best[k] = s, truth[k] = i;
      }
    std::sort(best.begin(), best.end());
    std::printf("{\"queries\":\"%s\",\"top1_cos_p50\":%.3f,\"recall_at_1\":{", argv[f], best[nq / 2]);
    std::string times;
    for (size_t e = 0; e < efs.size(); ++e) {
      size_t right = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (size_t k = 0; k < nq; ++k) right += index.search(&q[k * dim], 1, efs[e])[0].label == truth[k];
      double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / double(nq);
      std::printf("%s\"%zu\":%.3f", e ? "," : "", efs[e], double(right) / double(nq));
      char t[48];
      std::snprintf(t, sizeof t, "%s\"%zu\":%.0f", e ? "," : "", efs[e], us);
      times += t;
    }
    std::printf("},\"search_us\":{%s}}\n", times.c_str());
    std::fflush(stdout);
  }
  return 0;
}
