#include "gpt2/model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "common/error.h"
#include "gpt2/safetensors.h"
#include "gpt2/sampling.h"
#include "text/json.h"

namespace semcache::gpt2 {

namespace json = text::json;

namespace {

constexpr const char* kUnsupported = codes::kUnsupportedModel;
constexpr const char* kContextFull = codes::kContextFull;

// ----------------------------------------------------------------------------
// forward-pass pieces (llm.c style)

// out (T, C) = (x - mean) / sqrt(var + eps) * w + b, per row
void layernorm(float* out, const float* x, const float* w, const float* b, int T, int C, float eps) {
  for (int t = 0; t < T; t++) {
    const float* xr = x + size_t(t) * C;
    float* o = out + size_t(t) * C;
    float mean = 0.0f;
    for (int i = 0; i < C; i++) mean += xr[i];
    mean /= C;
    float var = 0.0f;
    for (int i = 0; i < C; i++) var += (xr[i] - mean) * (xr[i] - mean);
    var /= C;
    float rstd = 1.0f / std::sqrt(var + eps);
    for (int i = 0; i < C; i++) o[i] = (xr[i] - mean) * rstd * w[i] + b[i];
  }
}

// x (N) = gelu(x)
void gelu(float* x, size_t N, Activation act) {
  if (act == Activation::GeluTanh) {
    const float s = std::sqrt(2.0f / float(M_PI));
    for (size_t i = 0; i < N; i++) {
      float v = x[i];
      x[i] = 0.5f * v * (1.0f + std::tanh(s * (v + 0.044715f * v * v * v)));
    }
  } else {
    for (size_t i = 0; i < N; i++) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * float(M_SQRT1_2)));
  }
}

// x (N) += y (N)
void residual(float* x, const float* y, size_t N) {
  for (size_t i = 0; i < N; i++) x[i] += y[i];
}

// Causal multi-head attention for T query rows at positions [pos, pos + T).
// qkv is (T, 3C) (q | k | v), kc/vc are this layer's caches (P, C) already holding rows
// [0, pos + T), out is (T, C), scores is scratch (P).
void attention(float* out, const float* qkv, const float* kc, const float* vc, float* scores, int T,
               int pos, int C, int NH) {
  const int hs = C / NH;
  const float scale = 1.0f / std::sqrt(float(hs));
  for (int t = 0; t < T; t++) {
    const int n = pos + t + 1;  // keys visible to this row
    for (int h = 0; h < NH; h++) {
      const float* q = qkv + size_t(t) * 3 * C + h * hs;
      float mx = -INFINITY;
      for (int s = 0; s < n; s++) {
        scores[s] = dot(q, kc + size_t(s) * C + h * hs, hs) * scale;
        mx = std::max(mx, scores[s]);
      }
      float sum = 0.0f;
      for (int s = 0; s < n; s++) {
        scores[s] = std::exp(scores[s] - mx);
        sum += scores[s];
      }
      float inv = 1.0f / sum;
      float* o = out + size_t(t) * C + h * hs;
      std::fill(o, o + hs, 0.0f);
      for (int s = 0; s < n; s++) axpy(o, scores[s] * inv, vc + size_t(s) * C + h * hs, hs);
    }
  }
}

// ----------------------------------------------------------------------------
// weight layout

// One weight tensor as the checkpoint names and shapes it, and where it goes.
struct Slot {
  std::string name;
  std::vector<int64_t> shape;  // checkpoint shape
  float* vec = nullptr;        // f32 destination (vectors, wpe)
  QMatrix* mat = nullptr;      // quantized destination
  bool conv1d = false;         // checkpoint stores (in, out): transpose to (out, in)
};

int get_int(const json::Value& cfg, const char* key, const char* alt, bool required, int dflt) {
  const json::Value* v = cfg.find(key);
  if (!v && alt) v = cfg.find(alt);
  if (!v) {
    if (required) throw Error(codes::kCorruptModel, std::string("config.json: missing \"") + key + "\"");
    return dflt;
  }
  if (!v->isInteger() || v->integer <= 0 || v->integer > (int64_t(1) << 24))
    throw Error(codes::kCorruptModel, std::string("config.json: \"") + key + "\" must be a positive integer");
  return int(v->integer);
}

}  // namespace

// ----------------------------------------------------------------------------
// config

Config parse_config(std::string_view text) {
  json::Value j = json::parse(text, codes::kCorruptModel, "config.json");
  if (!j.isObject()) throw Error(codes::kCorruptModel, "config.json: not a JSON object");
  if (const json::Value* mt = j.find("model_type"); mt && mt->isString() && mt->str != "gpt2")
    throw Error(kUnsupported, "config.json: model_type is \"" + mt->str + "\", expected \"gpt2\"");
  Config c;
  c.vocab_size = get_int(j, "vocab_size", nullptr, true, 0);
  c.n_positions = get_int(j, "n_positions", "n_ctx", true, 0);
  c.n_embd = get_int(j, "n_embd", nullptr, true, 0);
  c.n_layer = get_int(j, "n_layer", nullptr, true, 0);
  c.n_head = get_int(j, "n_head", nullptr, true, 0);
  if (c.n_embd % c.n_head != 0)
    throw Error(codes::kCorruptModel, "config.json: n_embd " + std::to_string(c.n_embd) +
                                          " is not divisible by n_head " + std::to_string(c.n_head));
  if (const json::Value* e = j.find("layer_norm_epsilon")) {
    if (!e->isNumber() || !(e->number > 0)) throw Error(codes::kCorruptModel, "config.json: bad layer_norm_epsilon");
    c.layer_norm_epsilon = float(e->number);
  }
  if (const json::Value* a = j.find("activation_function")) {
    if (!a->isString()) throw Error(codes::kCorruptModel, "config.json: activation_function is not a string");
    if (a->str == "gelu_new" || a->str == "gelu_pytorch_tanh") c.activation = Activation::GeluTanh;
    else if (a->str == "gelu") c.activation = Activation::GeluErf;
    else throw Error(kUnsupported, "config.json: activation_function \"" + a->str + "\" is not supported (gelu_new, gelu_pytorch_tanh, gelu)");
  }
  if (const json::Value* t = j.find("tie_word_embeddings")) {
    if (!t->isBool()) throw Error(codes::kCorruptModel, "config.json: tie_word_embeddings is not a boolean");
    c.tie_word_embeddings = t->boolean;
  }
  return c;
}

// ----------------------------------------------------------------------------
// construction

static std::vector<Slot> plan_slots(Model& m, const Config& c, std::vector<LayerWeights>& layers, QMatrix& wte,
                                    QMatrix& lm_head, const float*& wpe, const float*& lnfw, const float*& lnfb,
                                    uint8_t* base, WeightFormat fmt, size_t& total) {
  (void)m;
  const int64_t C = c.n_embd, V = c.vocab_size, P = c.n_positions;
  size_t off = 0;
  auto take = [&](size_t bytes) {
    off = (off + 63) & ~size_t(63);
    uint8_t* p = base ? base + off : nullptr;
    off += bytes;
    return p;
  };
  std::vector<Slot> slots;
  auto vec = [&](std::string name, std::vector<int64_t> shape, const float*& dst) {
    size_t n = 1;
    for (auto d : shape) n *= size_t(d);
    float* p = reinterpret_cast<float*>(take(n * 4));
    dst = p;
    slots.push_back({std::move(name), std::move(shape), p, nullptr, false});
  };
  auto mat = [&](std::string name, std::vector<int64_t> shape, QMatrix& q, bool conv1d) {
    int rows = int(conv1d ? shape[1] : shape[0]), cols = int(conv1d ? shape[0] : shape[1]);
    q.fmt = fmt;
    q.rows = rows;
    q.cols = cols;
    q.data = take(size_t(rows) * cols * (fmt == WeightFormat::F32 ? 4 : fmt == WeightFormat::F16 ? 2 : 1));
    q.scale = fmt == WeightFormat::Int8 ? reinterpret_cast<float*>(take(size_t(rows) * 4)) : nullptr;
    slots.push_back({std::move(name), std::move(shape), nullptr, &q, conv1d});
  };
  mat("wte.weight", {V, C}, wte, false);
  vec("wpe.weight", {P, C}, wpe);
  layers.assign(c.n_layer, LayerWeights{});
  for (int l = 0; l < c.n_layer; l++) {
    LayerWeights& L = layers[l];
    std::string h = "h." + std::to_string(l) + ".";
    vec(h + "ln_1.weight", {C}, L.ln_1_w);
    vec(h + "ln_1.bias", {C}, L.ln_1_b);
    mat(h + "attn.c_attn.weight", {C, 3 * C}, L.c_attn, true);
    vec(h + "attn.c_attn.bias", {3 * C}, L.c_attn_b);
    mat(h + "attn.c_proj.weight", {C, C}, L.attn_proj, true);
    vec(h + "attn.c_proj.bias", {C}, L.attn_proj_b);
    vec(h + "ln_2.weight", {C}, L.ln_2_w);
    vec(h + "ln_2.bias", {C}, L.ln_2_b);
    mat(h + "mlp.c_fc.weight", {C, 4 * C}, L.c_fc, true);
    vec(h + "mlp.c_fc.bias", {4 * C}, L.c_fc_b);
    mat(h + "mlp.c_proj.weight", {4 * C, C}, L.mlp_proj, true);
    vec(h + "mlp.c_proj.bias", {C}, L.mlp_proj_b);
  }
  vec("ln_f.weight", {C}, lnfw);
  vec("ln_f.bias", {C}, lnfb);
  if (!c.tie_word_embeddings) mat("lm_head.weight", {V, C}, lm_head, false);
  else lm_head = wte;
  total = off;
  return slots;
}

// Fills every slot from `source(slot, dst)`, which writes the tensor in checkpoint layout as f32.
static void fill_slots(std::vector<Slot>& slots, WeightFormat fmt,
                       const std::function<void(const Slot&, float*)>& source) {
  std::vector<float> tmp, tr;
  for (Slot& s : slots) {
    if (s.vec) {
      source(s, s.vec);
      continue;
    }
    QMatrix& q = *s.mat;
    size_t n = size_t(q.rows) * q.cols;
    const float* src;
    tmp.resize(n);
    source(s, tmp.data());
    src = tmp.data();
    if (s.conv1d) {  // (in, out) -> (out, in)
      tr.resize(n);
      for (int i = 0; i < q.cols; i++)
        for (int o = 0; o < q.rows; o++) tr[size_t(o) * q.cols + i] = tmp[size_t(i) * q.rows + o];
      src = tr.data();
    }
    quantize_rows(src, q.rows, q.cols, fmt, const_cast<void*>(q.data), const_cast<float*>(q.scale));
  }
}

void Model::allocate(const Config& cfg, WeightFormat fmt) {
  cfg_ = cfg;
  fmt_ = fmt;
  const size_t C = cfg.n_embd, P = cfg.n_positions, L = cfg.n_layer;
  k_cache_.assign(L * P * C, 0.0f);
  v_cache_.assign(L * P * C, 0.0f);
  logits_.assign(cfg.vocab_size, 0.0f);
  scores_.assign(P, 0.0f);
}

std::unique_ptr<Model> Model::load(const uint8_t* bytes, size_t size, std::string_view config_json,
                                   WeightFormat fmt) {
  Config cfg = parse_config(config_json);
  SafeTensors st = parse_safetensors(bytes, size);
  std::unique_ptr<Model> m(new Model());
  size_t total = 0;
  // Check every tensor before allocating hundreds of MB.
  auto find = [&](const std::string& name) -> const TensorView* {
    auto it = st.tensors.find(name);
    if (it == st.tensors.end()) it = st.tensors.find("transformer." + name);
    return it == st.tensors.end() ? nullptr : &it->second;
  };
  std::vector<Slot> probe =
      plan_slots(*m, cfg, m->layers_, m->wte_, m->lm_head_, m->wpe_, m->ln_f_w_, m->ln_f_b_, nullptr, fmt, total);
  for (const Slot& s : probe) {
    const TensorView* t = find(s.name);
    if (!t)
      throw Error(codes::kCorruptModel, "model.safetensors: missing tensor '" + s.name + "' (n_layer=" +
                                            std::to_string(cfg.n_layer) + " in config.json)");
    if (t->dtype != "F32" && t->dtype != "F16")
      throw Error(kUnsupported, "model.safetensors: tensor '" + s.name + "' has dtype " + t->dtype +
                                    "; only F32 and F16 are supported");
    if (t->shape != s.shape)
      throw Error(codes::kCorruptModel, "model.safetensors: tensor '" + s.name + "' has shape " +
                                            shape_str(t->shape) + ", expected " + shape_str(s.shape) +
                                            " from config.json (n_embd=" + std::to_string(cfg.n_embd) +
                                            ", vocab_size=" + std::to_string(cfg.vocab_size) +
                                            ", n_positions=" + std::to_string(cfg.n_positions) + ")");
  }
  m->weights_.reset(new uint8_t[total + 64]);
  m->weight_bytes_ = total;
  uint8_t* base = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(m->weights_.get()) + 63) & ~uintptr_t(63));
  std::vector<Slot> slots =
      plan_slots(*m, cfg, m->layers_, m->wte_, m->lm_head_, m->wpe_, m->ln_f_w_, m->ln_f_b_, base, fmt, total);
  fill_slots(slots, fmt, [&](const Slot& s, float* dst) {
    const TensorView* t = find(s.name);
    size_t n = t->numel();
    if (t->dtype == "F32") {
      std::memcpy(dst, t->data, n * 4);
    } else {
      for (size_t i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, t->data + 2 * i, 2);
        if ((h & 0x7c00) == 0x7c00) dst[i] = NAN;  // inf/nan half: rejected below
        else dst[i] = f16_to_f32(h);
      }
    }
    for (size_t i = 0; i < n; i++)
      if (!std::isfinite(dst[i]))
        throw Error(codes::kCorruptModel, "model.safetensors: tensor '" + s.name + "' holds a non-finite value at index " +
                                              std::to_string(i));
  });
  m->allocate(cfg, fmt);
  return m;
}

std::unique_ptr<Model> Model::random(const Config& cfg, uint64_t seed, WeightFormat fmt) {
  if (cfg.n_embd % cfg.n_head != 0) throw Error(codes::kInvalidArgument, "n_embd must be divisible by n_head");
  std::unique_ptr<Model> m(new Model());
  size_t total = 0;
  plan_slots(*m, cfg, m->layers_, m->wte_, m->lm_head_, m->wpe_, m->ln_f_w_, m->ln_f_b_, nullptr, fmt, total);
  m->weights_.reset(new uint8_t[total + 64]);
  m->weight_bytes_ = total;
  uint8_t* base = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(m->weights_.get()) + 63) & ~uintptr_t(63));
  std::vector<Slot> slots =
      plan_slots(*m, cfg, m->layers_, m->wte_, m->lm_head_, m->wpe_, m->ln_f_w_, m->ln_f_b_, base, fmt, total);
  Rng rng(seed);
  const float proj_std = 0.02f / std::sqrt(2.0f * cfg.n_layer);
  fill_slots(slots, fmt, [&](const Slot& s, float* dst) {
    size_t n = 1;
    for (auto d : s.shape) n *= size_t(d);
    bool is_ln_w = s.name.find("ln_") != std::string::npos && s.name.find(".weight") != std::string::npos;
    if (is_ln_w) return std::fill(dst, dst + n, 1.0f);
    if (s.name.find(".bias") != std::string::npos) return std::fill(dst, dst + n, 0.0f);
    float sd = s.name.find("c_proj.weight") != std::string::npos ? proj_std : 0.02f;
    if (s.name == "wpe.weight") sd = 0.01f;
    // Irwin-Hall of four random bytes: near-normal, one RNG draw per weight
    for (size_t i = 0; i < n; i++) {
      uint32_t r = rng.next_u32();
      int sum = int(r & 255) + int((r >> 8) & 255) + int((r >> 16) & 255) + int(r >> 24);
      dst[i] = float(sum - 510) * (sd / 147.8f);
    }
  });
  m->allocate(cfg, fmt);
  return m;
}

// ----------------------------------------------------------------------------
// forward

void Model::ensure_activations(int T) {
  if (T <= act_T_) return;
  const size_t C = cfg_.n_embd;
  x_.resize(T * C);
  ln_.resize(T * C);
  qkv_.resize(T * 3 * C);
  att_.resize(T * C);
  tmp_.resize(T * C);
  fc_.resize(T * 4 * C);
  act_T_ = T;
}

void Model::check_tokens(const int* tokens, int n) const {
  for (int i = 0; i < n; i++)
    if (tokens[i] < 0 || tokens[i] >= cfg_.vocab_size)
      throw Error(codes::kInvalidArgument, "token id " + std::to_string(tokens[i]) + " at index " +
                                               std::to_string(i) + " is outside [0, " +
                                               std::to_string(cfg_.vocab_size) + ")");
}

const float* Model::forward(const int* tokens, int T, int pos) {
  const int C = cfg_.n_embd, P = cfg_.n_positions, NH = cfg_.n_head;
  if (T <= 0 || pos < 0 || pos + T > P)
    throw Error(codes::kInvalidArgument, "forward over positions [" + std::to_string(pos) + ", " +
                                             std::to_string(pos + T) + ") is outside [0, " + std::to_string(P) + ")");
  check_tokens(tokens, T);
  ensure_activations(T);
  float* x = x_.data();
  // x (T, C) = wte[token] + wpe[position]
  for (int t = 0; t < T; t++) {
    float* xr = x + size_t(t) * C;
    dequantize_row(wte_, tokens[t], xr);
    residual(xr, wpe_ + size_t(pos + t) * C, C);
  }
  for (int l = 0; l < cfg_.n_layer; l++) {
    const LayerWeights& w = layers_[l];
    float* kc = k_cache_.data() + size_t(l) * P * C;  // (P, C)
    float* vc = v_cache_.data() + size_t(l) * P * C;  // (P, C)
    layernorm(ln_.data(), x, w.ln_1_w, w.ln_1_b, T, C, cfg_.layer_norm_epsilon);  // (T, C)
    matmul(qkv_.data(), ln_.data(), w.c_attn, w.c_attn_b, T, mm_);                  // (T, 3C)
    for (int t = 0; t < T; t++) {
      std::memcpy(kc + size_t(pos + t) * C, qkv_.data() + size_t(t) * 3 * C + C, C * 4);
      std::memcpy(vc + size_t(pos + t) * C, qkv_.data() + size_t(t) * 3 * C + 2 * C, C * 4);
    }
    attention(att_.data(), qkv_.data(), kc, vc, scores_.data(), T, pos, C, NH);     // (T, C)
    matmul(tmp_.data(), att_.data(), w.attn_proj, w.attn_proj_b, T, mm_);           // (T, C)
    residual(x, tmp_.data(), size_t(T) * C);
    layernorm(ln_.data(), x, w.ln_2_w, w.ln_2_b, T, C, cfg_.layer_norm_epsilon);   // (T, C)
    matmul(fc_.data(), ln_.data(), w.c_fc, w.c_fc_b, T, mm_);                       // (T, 4C)
    gelu(fc_.data(), size_t(T) * 4 * C, cfg_.activation);
    matmul(tmp_.data(), fc_.data(), w.mlp_proj, w.mlp_proj_b, T, mm_);              // (T, C)
    residual(x, tmp_.data(), size_t(T) * C);
  }
  // only the last row's next-token distribution is needed
  layernorm(ln_.data(), x + size_t(T - 1) * C, ln_f_w_, ln_f_b_, 1, C, cfg_.layer_norm_epsilon);  // (1, C)
  matmul(logits_.data(), ln_.data(), lm_head_, nullptr, 1, mm_);                                  // (1, V)
  return logits_.data();
}

// ----------------------------------------------------------------------------
// sequence state

void Model::set_kv_cache(bool on) {
  use_kv_ = on;
  n_cached_ = 0;  // the next call recomputes the sequence (and fills the cache if on)
}

const float* Model::rerun() {
  const int n = int(tokens_.size());
  forward(tokens_.data(), n, 0);
  n_cached_ = use_kv_ ? n : 0;
  return logits_.data();
}

const float* Model::prefill(const int* tokens, int n) {
  if (n <= 0) throw Error(codes::kInvalidArgument, "prefill needs at least one token");
  check_tokens(tokens, n);
  const int P = cfg_.n_positions;
  if (n > P) {
    if (overflow_ == Overflow::Stop)
      throw Error(kContextFull, "prompt of " + std::to_string(n) + " tokens exceeds n_positions " + std::to_string(P));
    tokens += n - P / 2;
    n = P / 2;
  }
  tokens_.assign(tokens, tokens + n);
  return rerun();
}

const float* Model::step(int token) {
  if (tokens_.empty()) throw Error(codes::kInvalidArgument, "step() before prefill()");
  check_tokens(&token, 1);
  const int P = cfg_.n_positions;
  if (int(tokens_.size()) >= P) {
    if (overflow_ == Overflow::Stop)
      throw Error(kContextFull, "context is full: " + std::to_string(P) + " tokens (n_positions)");
    tokens_.push_back(token);
    tokens_.erase(tokens_.begin(), tokens_.end() - P / 2);
    return rerun();
  }
  tokens_.push_back(token);
  const int n = int(tokens_.size());
  if (use_kv_ && n_cached_ == n - 1) {
    forward(&token, 1, n - 1);
    n_cached_ = n;
    return logits_.data();
  }
  return rerun();
}

}  // namespace semcache::gpt2
