#pragma once
// Helpers shared by the GPT-2 tests: file reading and a tiny synthetic checkpoint builder.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gpt2/kernels.h"
#include "test_util.h"

namespace gpt2test {

using semcache::testing::readFile;

inline std::string brown_dir() { return std::string(SEMCACHE_SHARED_DIR) + "/models/brown-gpt2"; }

struct FakeTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// A valid GPT-2 checkpoint of the given shape with deterministic pseudo-random weights.
inline std::vector<FakeTensor> tiny_tensors(int V, int P, int C, int L) {
  std::vector<FakeTensor> ts;
  uint32_t s = 12345;
  auto rnd = [&] {
    s = s * 1664525u + 1013904223u;
    return (float((s >> 8) & 0xffff) / 65536.0f - 0.5f) * 0.2f;
  };
  auto add = [&](std::string name, std::vector<int64_t> shape, float fill, bool random) {
    size_t n = 1;
    for (auto d : shape) n *= size_t(d);
    FakeTensor t{std::move(name), "F32", std::move(shape), std::vector<float>(n, fill)};
    if (random)
      for (auto& v : t.values) v = rnd();
    ts.push_back(std::move(t));
  };
  add("wte.weight", {V, C}, 0, true);
  add("wpe.weight", {P, C}, 0, true);
  for (int l = 0; l < L; l++) {
    std::string h = "h." + std::to_string(l) + ".";
    add(h + "ln_1.weight", {C}, 1, false);
    add(h + "ln_1.bias", {C}, 0, true);
    add(h + "attn.c_attn.weight", {C, 3 * C}, 0, true);
    add(h + "attn.c_attn.bias", {3 * C}, 0, true);
    add(h + "attn.c_proj.weight", {C, C}, 0, true);
    add(h + "attn.c_proj.bias", {C}, 0, true);
    add(h + "ln_2.weight", {C}, 1, false);
    add(h + "ln_2.bias", {C}, 0, true);
    add(h + "mlp.c_fc.weight", {C, 4 * C}, 0, true);
    add(h + "mlp.c_fc.bias", {4 * C}, 0, true);
    add(h + "mlp.c_proj.weight", {4 * C, C}, 0, true);
    add(h + "mlp.c_proj.bias", {C}, 0, true);
  }
  add("ln_f.weight", {C}, 1, false);
  add("ln_f.bias", {C}, 0, true);
  return ts;
}

inline std::string tiny_config(int V, int P, int C, int L, int NH) {
  return "{\"model_type\":\"gpt2\",\"vocab_size\":" + std::to_string(V) + ",\"n_positions\":" + std::to_string(P) +
         ",\"n_embd\":" + std::to_string(C) + ",\"n_layer\":" + std::to_string(L) + ",\"n_head\":" +
         std::to_string(NH) + ",\"layer_norm_epsilon\":1e-5,\"activation_function\":\"gelu_new\"}";
}

// Serialises tensors as safetensors; dtype "F16" converts, any other dtype name is written with
// 4-byte elements (to fake an unsupported dtype of the right size).
inline std::vector<uint8_t> to_safetensors(const std::vector<FakeTensor>& ts) {
  std::string header = "{\"__metadata__\":{\"format\":\"pt\"}";
  std::vector<uint8_t> data;
  for (const auto& t : ts) {
    size_t begin = data.size();
    for (float v : t.values) {
      if (t.dtype == "F16") {
        uint16_t h = semcache::gpt2::f32_to_f16(v);
        data.insert(data.end(), reinterpret_cast<uint8_t*>(&h), reinterpret_cast<uint8_t*>(&h) + 2);
      } else {
        data.insert(data.end(), reinterpret_cast<const uint8_t*>(&v), reinterpret_cast<const uint8_t*>(&v) + 4);
      }
    }
    header += ",\"" + t.name + "\":{\"dtype\":\"" + t.dtype + "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); i++) header += (i ? "," : "") + std::to_string(t.shape[i]);
    header += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(data.size()) + "]}";
  }
  header += "}";
  while (header.size() % 8) header += ' ';
  std::vector<uint8_t> out(8);
  uint64_t n = header.size();
  for (int i = 0; i < 8; i++) out[i] = uint8_t(n >> (8 * i));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

}  // namespace gpt2test
