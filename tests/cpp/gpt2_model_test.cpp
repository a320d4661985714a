#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "gpt2/model.h"
#include "gpt2/sampling.h"
#include "gpt2_test_util.h"
#include "text/json.h"

using namespace semcache::gpt2;
using gpt2test::readFile;
using semcache::testing::codeOf;

namespace {

struct Reference {
  std::vector<int> prompt, greedy;
  std::vector<float> first16;
  int argmax = -1;
  float max = 0;
};

Reference load_reference() {
  auto j = semcache::text::json::parse(readFile(gpt2test::brown_dir() + "/reference.json"), "X", "reference.json");
  Reference r;
  for (auto& v : j.find("prompt_ids")->items) r.prompt.push_back(int(v.integer));
  for (auto& v : j.find("greedy_32_ids")->items) r.greedy.push_back(int(v.integer));
  for (auto& v : j.find("last_logits_first16")->items) r.first16.push_back(float(v.number));
  r.argmax = int(j.find("last_logits_argmax")->integer);
  r.max = float(j.find("last_logits_max")->number);
  return r;
}

// Loaded once: 70 MB of weights per format.
Model& brown(WeightFormat fmt) {
  static std::string bytes = readFile(gpt2test::brown_dir() + "/model.safetensors");
  static std::string cfg = readFile(gpt2test::brown_dir() + "/config.json");
  static std::unique_ptr<Model> models[3];
  auto& m = models[int(fmt)];
  if (!m) m = Model::load(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), cfg, fmt);
  return *m;
}

std::vector<int> greedy(Model& m, const std::vector<int>& prompt, int n) {
  std::vector<int> out;
  const float* logits = m.prefill(prompt.data(), int(prompt.size()));
  for (int i = 0; i < n; i++) {
    int t = argmax(logits, m.config().vocab_size);
    out.push_back(t);
    if (i + 1 < n) logits = m.step(t);
  }
  return out;
}

std::vector<int> sampled(Model& m, const std::vector<int>& prompt, int n, uint64_t seed, SamplingOptions opt) {
  Rng rng(seed);
  std::vector<std::pair<float, int>> scratch;
  std::vector<int> out;
  const float* logits = m.prefill(prompt.data(), int(prompt.size()));
  for (int i = 0; i < n; i++) {
    int t = sample_token(logits, m.config().vocab_size, opt, rng, scratch);
    out.push_back(t);
    if (i + 1 < n) logits = m.step(t);
  }
  return out;
}


}  // namespace

TEST(Gpt2Model, ReferenceLogitsMatch) {
  Reference ref = load_reference();
  Model& m = brown(WeightFormat::F32);
  EXPECT_EQ(m.config().n_layer, 6);
  EXPECT_EQ(m.config().n_embd, 256);
  m.set_kv_cache(true);
  const float* logits = m.prefill(ref.prompt.data(), int(ref.prompt.size()));
  for (int i = 0; i < 16; i++) EXPECT_NEAR(logits[i], ref.first16[i], 1e-3) << "logit " << i;
  int am = argmax(logits, m.config().vocab_size);
  EXPECT_EQ(am, ref.argmax);
  EXPECT_NEAR(logits[am], ref.max, 1e-3);
}

TEST(Gpt2Model, GreedyContinuationMatchesWithAndWithoutKvCache) {
  Reference ref = load_reference();
  Model& m = brown(WeightFormat::F32);
  m.set_kv_cache(true);
  EXPECT_EQ(greedy(m, ref.prompt, 32), ref.greedy);
  m.set_kv_cache(false);
  EXPECT_EQ(greedy(m, ref.prompt, 32), ref.greedy);
  m.set_kv_cache(true);
}

TEST(Gpt2Model, KvAndNoKvGiveSameSampledTokensFor64Steps) {
  Reference ref = load_reference();
  SamplingOptions opt;
  opt.temperature = 0.9f;
  opt.top_k = 50;
  opt.top_p = 0.95f;
  for (WeightFormat fmt : {WeightFormat::F32, WeightFormat::Int8}) {
    Model& m = brown(fmt);
    m.set_kv_cache(true);
    std::vector<int> a = sampled(m, ref.prompt, 64, 42, opt);
    m.set_kv_cache(false);
    std::vector<int> b = sampled(m, ref.prompt, 64, 42, opt);
    m.set_kv_cache(true);
    EXPECT_EQ(a, b) << format_name(fmt);
    // sampling really samples: not the greedy loop, and a different seed gives a different text
    std::set<int> distinct(a.begin(), a.end());
    EXPECT_GT(distinct.size(), 10u);
    EXPECT_NE(a, sampled(m, ref.prompt, 64, 43, opt));
  }
}

TEST(Gpt2Model, KvLogitsEqualFullRecomputeBitForBit) {
  Reference ref = load_reference();
  for (WeightFormat fmt : {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8}) {
    Model& m = brown(fmt);
    const int V = m.config().vocab_size;
    m.set_kv_cache(true);
    m.prefill(ref.prompt.data(), int(ref.prompt.size()));
    for (int t : {11, 262, 3290, 13}) {
      // one cached step ...
      std::vector<float> a(m.step(t), m.logits() + V);
      std::vector<int> seq = m.tokens();
      // ... equals a from-scratch pass over the same sequence
      m.set_kv_cache(false);
      std::vector<float> b(m.prefill(seq.data(), int(seq.size())), m.logits() + V);
      m.set_kv_cache(true);
      m.prefill(seq.data(), int(seq.size()));
      ASSERT_EQ(a, b) << format_name(fmt);
    }
  }
}

TEST(Gpt2Model, QuantizedFormatsStayCloseToF32) {
  Reference ref = load_reference();
  Model& f32 = brown(WeightFormat::F32);
  std::vector<float> base(f32.prefill(ref.prompt.data(), int(ref.prompt.size())),
                          f32.logits() + f32.config().vocab_size);
  for (WeightFormat fmt : {WeightFormat::F16, WeightFormat::Int8}) {
    Model& m = brown(fmt);
    EXPECT_LT(m.weight_bytes(), f32.weight_bytes() * (fmt == WeightFormat::F16 ? 0.51 : 0.27));
    const float* l = m.prefill(ref.prompt.data(), int(ref.prompt.size()));
    float err = 0;
    for (size_t i = 0; i < base.size(); i++) err = std::max(err, std::fabs(l[i] - base[i]));
    EXPECT_GT(err, 0.0f) << format_name(fmt) << " must differ from f32 at all";
    EXPECT_LT(err, fmt == WeightFormat::F16 ? 0.02f : 0.25f) << format_name(fmt);
    std::vector<int> g = greedy(m, ref.prompt, 32);
    int agree = 0;
    for (int i = 0; i < 32; i++) agree += g[i] == ref.greedy[i];
    EXPECT_GE(agree, 28) << format_name(fmt);
    std::printf("[quality] %s: max |logit - f32| = %.5f, greedy agreement %d/32, weights %.1f MB\n",
                format_name(fmt), err, agree, m.weight_bytes() / 1e6);
  }
}

TEST(Gpt2Model, OverflowStopAndSlide) {
  const int V = 16, P = 8, C = 8, L = 1;
  auto st = gpt2test::to_safetensors(gpt2test::tiny_tensors(V, P, C, L));
  auto cfg = gpt2test::tiny_config(V, P, C, L, 2);
  auto m = Model::load(st.data(), st.size(), cfg, WeightFormat::F32);
  std::vector<int> prompt = {1, 2, 3};
  m->set_overflow(Overflow::Stop);
  m->prefill(prompt.data(), 3);
  for (int i = 0; i < 5; i++) m->step(4 + i);
  EXPECT_TRUE(m->context_full());
  EXPECT_EQ(codeOf([&] { m->step(1); }), "CONTEXT_FULL");
  std::vector<int> long_prompt(9, 1);
  EXPECT_EQ(codeOf([&] { m->prefill(long_prompt.data(), 9); }), "CONTEXT_FULL");

  // Slide: both paths drop to the last P/2 tokens and agree
  std::vector<std::vector<int>> runs;
  for (bool kv : {true, false}) {
    m->set_overflow(Overflow::Slide);
    m->set_kv_cache(kv);
    const float* logits = m->prefill(prompt.data(), 3);
    std::vector<int> out;
    for (int i = 0; i < 20; i++) {
      int t = argmax(logits, V);
      out.push_back(t);
      logits = m->step(t);
      EXPECT_LE(int(m->tokens().size()), P);
    }
    runs.push_back(out);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_EQ(codeOf([&] { m->step(V); }), "INVALID_ARGUMENT");
  EXPECT_EQ(codeOf([&] { m->step(-1); }), "INVALID_ARGUMENT");
}

TEST(Gpt2Model, F16CheckpointLoadsAndMatchesF32) {
  const int V = 32, P = 16, C = 16, L = 2;
  auto ts = gpt2test::tiny_tensors(V, P, C, L);
  auto st32 = gpt2test::to_safetensors(ts);
  for (auto& t : ts) t.dtype = "F16";
  auto st16 = gpt2test::to_safetensors(ts);
  auto cfg = gpt2test::tiny_config(V, P, C, L, 4);
  auto a = Model::load(st32.data(), st32.size(), cfg, WeightFormat::F32);
  auto b = Model::load(st16.data(), st16.size(), cfg, WeightFormat::F32);
  std::vector<int> prompt = {3, 1, 4, 1, 5};
  std::vector<float> la(a->prefill(prompt.data(), 5), a->logits() + V);
  const float* lb = b->prefill(prompt.data(), 5);
  for (int i = 0; i < V; i++) EXPECT_NEAR(la[i], lb[i], 2e-3);
}

TEST(Gpt2Model, TransformerPrefixAndExtraBuffersAccepted) {
  const int V = 16, P = 8, C = 8, L = 1;
  auto ts = gpt2test::tiny_tensors(V, P, C, L);
  for (auto& t : ts) t.name = "transformer." + t.name;
  ts.push_back({"transformer.h.0.attn.bias", "F32", {1, 1, P, P}, std::vector<float>(P * P, 1.0f)});
  auto st = gpt2test::to_safetensors(ts);
  EXPECT_NO_THROW(Model::load(st.data(), st.size(), gpt2test::tiny_config(V, P, C, L, 2), WeightFormat::Int8));
}

TEST(Gpt2Model, MalformedCheckpointsRejectedClearly) {
  const int V = 16, P = 8, C = 8, L = 2;
  auto cfg = gpt2test::tiny_config(V, P, C, L, 2);
  auto good = gpt2test::to_safetensors(gpt2test::tiny_tensors(V, P, C, L));
  auto load = [&](const std::vector<uint8_t>& st, const std::string& config) {
    return [st, config] { Model::load(st.data(), st.size(), config, WeightFormat::F32); };
  };
  std::string msg;

  // truncated: data cut short, then header cut short, then not even a length
  auto trunc = good;
  trunc.resize(good.size() - 100);
  EXPECT_EQ(codeOf(load(trunc, cfg), &msg), "CORRUPT_MODEL");
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  trunc.resize(200);
  EXPECT_EQ(codeOf(load(trunc, cfg), &msg), "CORRUPT_MODEL");
  EXPECT_NE(msg.find("header length"), std::string::npos) << msg;
  trunc.resize(5);
  EXPECT_EQ(codeOf(load(trunc, cfg), &msg), "CORRUPT_MODEL");

  // bad header JSON
  auto bad = good;
  bad[8 + 15] = '#';  // the ":" after "__metadata__"
  EXPECT_EQ(codeOf(load(bad, cfg), &msg), "CORRUPT_MODEL");
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg;

  // missing tensor
  auto ts = gpt2test::tiny_tensors(V, P, C, L);
  auto missing = ts;
  missing.erase(missing.begin() + 20);
  std::string missing_name = ts[20].name;
  EXPECT_EQ(codeOf(load(gpt2test::to_safetensors(missing), cfg), &msg), "CORRUPT_MODEL");
  EXPECT_NE(msg.find("missing tensor '" + missing_name + "'"), std::string::npos) << msg;

  // wrong shape (a config that disagrees with the tensors is the same failure)
  auto shaped = ts;
  shaped[4].shape = {3 * C, C};  // h.0.attn.c_attn.weight transposed
  EXPECT_EQ(codeOf(load(gpt2test::to_safetensors(shaped), cfg), &msg), "CORRUPT_MODEL");
  EXPECT_NE(msg.find("h.0.attn.c_attn.weight"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected [8, 24]"), std::string::npos) << msg;
  EXPECT_EQ(codeOf(load(good, gpt2test::tiny_config(V, P, 16, L, 2)), &msg), "CORRUPT_MODEL");

  // wrong dtype
  auto typed = ts;
  typed[0].dtype = "I32";
  EXPECT_EQ(codeOf(load(gpt2test::to_safetensors(typed), cfg), &msg), "UNSUPPORTED_MODEL");
  EXPECT_NE(msg.find("I32"), std::string::npos) << msg;

  // size in the header disagrees with shape x dtype
  auto lying = ts;
  lying[1].values.pop_back();
  EXPECT_EQ(codeOf(load(gpt2test::to_safetensors(lying), cfg), &msg), "CORRUPT_MODEL");

  // non-finite weight
  auto nan = ts;
  nan[2].values[0] = NAN;
  EXPECT_EQ(codeOf(load(gpt2test::to_safetensors(nan), cfg), &msg), "CORRUPT_MODEL");
  EXPECT_NE(msg.find("non-finite"), std::string::npos) << msg;

  // config problems
  EXPECT_EQ(codeOf(load(good, "{\"n_embd\": 8"), &msg), "CORRUPT_MODEL");
  EXPECT_EQ(codeOf(load(good, "{\"vocab_size\":16,\"n_positions\":8,\"n_embd\":8,\"n_layer\":2}"), &msg),
            "CORRUPT_MODEL");
  EXPECT_NE(msg.find("n_head"), std::string::npos) << msg;
  EXPECT_EQ(codeOf(load(good, gpt2test::tiny_config(V, P, C, L, 3))), "CORRUPT_MODEL");
  std::string relu = cfg;
  relu.replace(relu.find("gelu_new"), 8, "relu");
  EXPECT_EQ(codeOf(load(good, relu)), "UNSUPPORTED_MODEL");

  // the intact checkpoint loads
  EXPECT_EQ(codeOf(load(good, cfg)), "ok");
}
