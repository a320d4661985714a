// GPT-2 decode speed with and without the KV cache, per weight format, for brown-gpt2 (trained
// weights read from disk) and a 124M-shaped model with random weights (seeded): the latter is for
// speed only, since random weights say nothing about fidelity; fidelity figures come from
// brown-gpt2 alone. The same source runs natively and as build/wasm/bench_gpt2.cjs under Node.
// Prints one JSON line.
//   bench_gpt2 <brown-gpt2 dir> [--quick]
// Per model and format:
//   kv_tok_s_C     tokens/s (wall clock; cpu_* the same by process CPU time) of cached steps that end at context length C (C = 32, 128, 256)
//   nokv_tok_s_256 tokens/s when each token recomputes the whole 256-token sequence
// brown-gpt2 only (fidelity, on the prompt of its reference.json):
//   max_logit_err  max |logit - f32 logit| after the prompt
//   greedy_agree   fraction of f32's 64 greedy tokens that this format also ranks first, fed the
//                  same sequence (teacher-forced)
//   logits_first16 the first 16 logits after the prompt, argmax / max_logit over all of them,
//   greedy_32      this format's own greedy continuation (32 tokens): bench/gpt2.mjs compares
//                  these with reference.json (the checkpoint's logits from its trainer)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ctime>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#include "gpt2/model.h"
#include "gpt2/sampling.h"

using namespace semcache::gpt2;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU seconds of this process: on a machine shared with other jobs, wall time measures the
// neighbours too; both are reported. Under Node, process.cpuUsage() (includes V8's own threads).
double cpu_seconds() {
#ifdef __EMSCRIPTEN__
  return EM_ASM_DOUBLE({
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
#else
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
#endif
}

// tokens/s by wall clock and by CPU time
struct Rate {
  double wall = 0, cpu = 0;
};

template <class F>
Rate time_steps(int steps, F&& f) {
  auto t0 = Clock::now();
  double c0 = cpu_seconds();
  for (int i = 0; i < steps; i++) f(i);
  return {steps / seconds_since(t0), steps / (cpu_seconds() - c0)};
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<int> random_tokens(int n, int V, uint64_t seed) {
  Rng r(seed);
  std::vector<int> t(n);
  for (auto& x : t) x = int(r.next_u32() % uint32_t(V));
  return t;
}

struct Quality {
  std::vector<float> logits;  // f32 logits after the prompt
  std::vector<int> seq;       // prompt + f32's greedy continuation
};

struct Result {
  Rate kv[3], nokv;
  double load_ms = 0, weight_mb = 0, err = 0, agree = 0;
  bool fidelity = false;  // trained weights: the quality fields below are measured
  std::vector<float> first16;
  int argmax_id = -1;
  float max_logit = 0;
  std::vector<int> greedy32;
};

const int kContexts[3] = {32, 128, 256};

// Cached steps ending at context length C: prefill C - steps tokens, time `steps` steps.
Rate kv_tok_s(Model& m, const std::vector<int>& toks, int C, int steps) {
  m.set_kv_cache(true);
  m.prefill(toks.data(), C - steps);
  return time_steps(steps, [&](int i) { m.step(toks[C - steps + i]); });
}

Rate nokv_tok_s(Model& m, const std::vector<int>& toks, int C, int steps) {
  m.set_kv_cache(false);
  m.prefill(toks.data(), C - steps);
  Rate r = time_steps(steps, [&](int i) { m.step(toks[C - steps + i]); });
  m.set_kv_cache(true);
  return r;
}

void quality(Model& m, const std::vector<int>& prompt, Quality& q, Result& r) {
  const int V = m.config().vocab_size;
  m.set_kv_cache(true);
  const float* l = m.prefill(prompt.data(), int(prompt.size()));
  r.fidelity = true;
  r.first16.assign(l, l + std::min(16, V));
  r.argmax_id = argmax(l, V);
  r.max_logit = l[r.argmax_id];
  {
    // this format's own greedy continuation, on a fresh pass so the checks below start clean
    int t = r.argmax_id;
    for (int i = 0; i < 32; i++) {
      r.greedy32.push_back(t);
      const float* nl = m.step(t);
      t = argmax(nl, V);
    }
    l = m.prefill(prompt.data(), int(prompt.size()));
  }
  if (q.logits.empty()) {  // this is the f32 model: record the reference
    q.logits.assign(l, l + V);
    q.seq = prompt;
    for (int i = 0; i < 64; i++) {
      int t = argmax(l, V);
      q.seq.push_back(t);
      l = m.step(t);
    }
    r.err = 0;
    r.agree = 1;
    return;
  }
  double err = 0;
  for (int i = 0; i < V; i++) err = std::max(err, double(std::fabs(l[i] - q.logits[i])));
  int agree = 0;
  for (size_t i = prompt.size(); i < q.seq.size(); i++) {
    agree += argmax(l, V) == q.seq[i];
    l = m.step(q.seq[i]);
  }
  r.err = err;
  r.agree = agree / double(q.seq.size() - prompt.size());
}

void print_result(const char* fmt, const Result& r, bool last) {
  std::printf(
      "\"%s\":{\"kv_tok_s_32\":%.2f,\"kv_tok_s_128\":%.2f,\"kv_tok_s_256\":%.2f,\"nokv_tok_s_256\":%.3f,"
      "\"cpu_kv_tok_s_32\":%.2f,\"cpu_kv_tok_s_128\":%.2f,\"cpu_kv_tok_s_256\":%.2f,\"cpu_nokv_tok_s_256\":%.3f,"
      "\"weight_mb\":%.1f,\"load_ms\":%.0f",
      fmt, r.kv[0].wall, r.kv[1].wall, r.kv[2].wall, r.nokv.wall, r.kv[0].cpu, r.kv[1].cpu, r.kv[2].cpu, r.nokv.cpu,
      r.weight_mb, r.load_ms);
  if (r.fidelity) {
    std::printf(",\"max_logit_err\":%.5f,\"greedy_agree\":%.4f,\"argmax\":%d,\"max_logit\":%.6f,\"logits_first16\":[",
                r.err, r.agree, r.argmax_id, r.max_logit);
    for (size_t i = 0; i < r.first16.size(); i++) std::printf("%s%.6f", i ? "," : "", r.first16[i]);
    std::printf("],\"greedy_32\":[");
    for (size_t i = 0; i < r.greedy32.size(); i++) std::printf("%s%d", i ? "," : "", r.greedy32[i]);
    std::printf("]");
  }
  std::printf("}%s", last ? "" : ",");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <brown-gpt2 dir> [--quick]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  bool quick = argc > 2 && std::string(argv[2]) == "--quick";
  std::string st = read_file(dir + "/model.safetensors"), cfg = read_file(dir + "/config.json");
  const WeightFormat formats[3] = {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8};
#ifdef __EMSCRIPTEN__
  const char* build = "wasm";
#else
  const char* build = "native";
#endif
  std::printf("{\"build\":\"%s\",\"models\":{", build);
  for (int which = 0; which < 2; which++) {
    const bool brown = which == 0;
    std::printf("\"%s\":{", brown ? "brown_gpt2" : "gpt2_124m_random_weights");
    Quality q;
    for (int f = 0; f < 3; f++) {
      Result r;
      auto t0 = Clock::now();
      std::unique_ptr<Model> m;
      if (brown) {
        m = Model::load(reinterpret_cast<const uint8_t*>(st.data()), st.size(), cfg, formats[f]);
      } else {
        Config c;  // GPT-2 124M: 12 layers, 12 heads, 768-d, 1024 positions, 50257 tokens
        m = Model::random(c, 124, formats[f]);
      }
      r.load_ms = seconds_since(t0) * 1e3;
      r.weight_mb = m->weight_bytes() / 1e6;
      const int V = m->config().vocab_size;
      std::vector<int> toks = random_tokens(256, V, 7);
      // reference.json's prompt; random weights get no fidelity figures (they would mean nothing)
      if (brown) quality(*m, {464, 1255, 286, 262, 3071, 373}, q, r);
      const int steps = quick ? 4 : (brown ? 16 : 8);
      for (int i = 0; i < 3; i++) r.kv[i] = kv_tok_s(*m, toks, kContexts[i], steps);
      r.nokv = nokv_tok_s(*m, toks, 256, quick ? 1 : (brown ? 4 : 1));
      print_result(format_name(formats[f]), r, f == 2);
      std::fflush(stdout);
    }
    std::printf("}%s", which == 0 ? "," : "");
  }
  std::printf("}}\n");
  return 0;
}
