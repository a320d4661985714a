// Embind surface for GPT-2: the byte-level BPE tokenizer and the model with its KV cache.
// Declared for TypeScript in bindings/gpt2.d.ts (keep the two in step).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "gpt2/model.h"
#include "gpt2/sampling.h"
#include "js_error.h"
#include "text/gpt2_bpe.h"

using emscripten::val;
using semcache::bind::guard;
namespace g = semcache::gpt2;

namespace {

std::vector<int> to_ids(const val& ids) {
  return emscripten::convertJSArrayToNumberVector<int>(ids);
}

// A copy (Int32Array) of ids living in wasm memory: the caller may keep it.
val copy_ids(const std::vector<int>& ids) {
  return val(emscripten::typed_memory_view(ids.size(), ids.data())).call<val>("slice");
}

g::WeightFormat parse_format(const std::string& f) {
  if (f == "f32") return g::WeightFormat::F32;
  if (f == "f16") return g::WeightFormat::F16;
  if (f == "int8") return g::WeightFormat::Int8;
  throw semcache::Error(semcache::codes::kInvalidArgument, "weight format must be 'f32', 'f16' or 'int8', got '" + f + "'");
}

class Gpt2Tokenizer {
 public:
  Gpt2Tokenizer(const std::string& encoder_json, const std::string& vocab_bpe)
      : bpe_(guard([&] { return semcache::text::Gpt2Bpe(encoder_json, vocab_bpe); })) {}
  val encode(const std::string& text) const {
    return guard([&] { return copy_ids(bpe_.encode(text)); });
  }
  // Returned through TextDecoder({ignoreBOM: true}): Embind's std::string conversion (3.1.6)
  // decodes each NUL-separated segment separately, and so drops a U+FEFF that follows a NUL.
  val decode(const val& ids) const {
    return guard([&] {
      std::vector<int> v = to_ids(ids);
      std::string s = bpe_.decode(v.data(), v.size());
      static const val decoder = [] {
        val opts = val::object();
        opts.set("ignoreBOM", true);
        return val::global("TextDecoder").new_(std::string("utf-8"), opts);
      }();
      return decoder.call<val>("decode", val(emscripten::typed_memory_view(s.size(), reinterpret_cast<const uint8_t*>(s.data()))));
    });
  }
  int vocabSize() const { return bpe_.vocab_size(); }

 private:
  semcache::text::Gpt2Bpe bpe_;
};

class Gpt2Model {
 public:
  // `ptr`/`len`: the safetensors bytes, copied by the caller into memory from Module._malloc (the
  // model converts them into its own allocation; the caller frees them after this returns).
  static Gpt2Model* load(double ptr, double len, const std::string& config_json, const std::string& format) {
    return guard([&] {
      const uint8_t* p = reinterpret_cast<const uint8_t*>(uintptr_t(ptr));
      auto m = g::Model::load(p, size_t(len), config_json, parse_format(format));
      return new Gpt2Model(std::move(m));
    });
  }
  static Gpt2Model* random(const val& cfg, double seed, const std::string& format) {
    return guard([&] {
      g::Config c;
      auto get = [&](const char* k, int d) { return cfg[k].isUndefined() ? d : cfg[k].as<int>(); };
      c.vocab_size = get("vocabSize", c.vocab_size);
      c.n_positions = get("nPositions", c.n_positions);
      c.n_embd = get("nEmbd", c.n_embd);
      c.n_layer = get("nLayer", c.n_layer);
      c.n_head = get("nHead", c.n_head);
      if (c.vocab_size <= 0 || c.n_positions <= 0 || c.n_embd <= 0 || c.n_layer <= 0 || c.n_head <= 0)
        throw semcache::Error(semcache::codes::kInvalidArgument, "random model sizes must be positive");
      return new Gpt2Model(g::Model::random(c, uint64_t(seed), parse_format(format)));
    });
  }

  val config() const {
    const g::Config& c = m_->config();
    val o = val::object();
    o.set("vocabSize", c.vocab_size);
    o.set("nPositions", c.n_positions);
    o.set("nEmbd", c.n_embd);
    o.set("nLayer", c.n_layer);
    o.set("nHead", c.n_head);
    return o;
  }
  std::string format() const { return g::format_name(m_->format()); }
  double weightBytes() const { return double(m_->weight_bytes()); }

  void setKvCache(bool on) { m_->set_kv_cache(on); }
  bool kvCache() const { return m_->kv_cache(); }
  void setOverflow(const std::string& o) {
    guard([&] {
      if (o == "stop") m_->set_overflow(g::Overflow::Stop);
      else if (o == "slide") m_->set_overflow(g::Overflow::Slide);
      else throw semcache::Error(semcache::codes::kInvalidArgument, "overflow must be 'stop' or 'slide', got '" + o + "'");
    });
  }
  std::string overflow() const { return m_->overflow() == g::Overflow::Stop ? "stop" : "slide"; }
  void setSeed(double seed) { rng_.reseed(uint64_t(seed)); }

  // The returned Float32Array views wasm memory: valid until the next call on this model.
  val prefill(const val& ids) {
    return guard([&] {
      std::vector<int> v = to_ids(ids);
      return logits_view(m_->prefill(v.data(), int(v.size())));
    });
  }
  val step(int token) {
    return guard([&] { return logits_view(m_->step(token)); });
  }
  val logits() const { return logits_view(m_->logits()); }

  // Draws the next token from the current logits (no state change besides the RNG).
  int sample(const val& options) {
    return guard([&] {
      g::SamplingOptions o = parse_options(options);
      return g::sample_token(m_->logits(), m_->config().vocab_size, o, rng_, scratch_);
    });
  }
  // sample() then step() with the drawn token; returns it. Under overflow 'stop', check
  // contextFull() first: stepping a full context throws CONTEXT_FULL.
  int generateOne(const val& options) {
    return guard([&] {
      if (m_->tokens().empty())
        throw semcache::Error(semcache::codes::kInvalidArgument, "generateOne() before prefill()");
      g::SamplingOptions o = parse_options(options);
      int t = g::sample_token(m_->logits(), m_->config().vocab_size, o, rng_, scratch_);
      m_->step(t);
      return t;
    });
  }
  bool contextFull() const { return m_->context_full(); }
  int length() const { return int(m_->tokens().size()); }
  val tokens() const { return copy_ids(m_->tokens()); }

 private:
  explicit Gpt2Model(std::unique_ptr<g::Model> m) : m_(std::move(m)) {}
  val logits_view(const float* p) const {
    return val(emscripten::typed_memory_view(size_t(m_->config().vocab_size), p));
  }
  static g::SamplingOptions parse_options(const val& v) {
    g::SamplingOptions o;
    if (v.isUndefined() || v.isNull()) return o;
    if (!v["temperature"].isUndefined()) o.temperature = v["temperature"].as<float>();
    if (!v["topK"].isUndefined()) o.top_k = v["topK"].as<int>();
    if (!v["topP"].isUndefined()) o.top_p = v["topP"].as<float>();
    return o;
  }

  std::unique_ptr<g::Model> m_;
  g::Rng rng_{0};
  std::vector<std::pair<float, int>> scratch_;
};

// The first n outputs of the sampler's PCG32 for `seed`: lets tests check that the wasm stream
// equals the native one.
val gpt2RngStream(double seed, int n) {
  g::Rng r{uint64_t(seed)};
  std::vector<uint32_t> out(n > 0 ? n : 0);
  for (auto& x : out) x = r.next_u32();
  return val(emscripten::typed_memory_view(out.size(), out.data())).call<val>("slice");
}

}  // namespace

EMSCRIPTEN_BINDINGS(semcache_gpt2) {
  using namespace emscripten;
  class_<Gpt2Tokenizer>("Gpt2Tokenizer")
      .constructor<const std::string&, const std::string&>()
      .function("encode", &Gpt2Tokenizer::encode)
      .function("decode", &Gpt2Tokenizer::decode)
      .function("vocabSize", &Gpt2Tokenizer::vocabSize);
  class_<Gpt2Model>("Gpt2Model")
      .class_function("load", &Gpt2Model::load, allow_raw_pointers())
      .class_function("random", &Gpt2Model::random, allow_raw_pointers())
      .function("config", &Gpt2Model::config)
      .function("format", &Gpt2Model::format)
      .function("weightBytes", &Gpt2Model::weightBytes)
      .function("setKvCache", &Gpt2Model::setKvCache)
      .function("kvCache", &Gpt2Model::kvCache)
      .function("setOverflow", &Gpt2Model::setOverflow)
      .function("overflow", &Gpt2Model::overflow)
      .function("setSeed", &Gpt2Model::setSeed)
      .function("prefill", &Gpt2Model::prefill)
      .function("step", &Gpt2Model::step)
      .function("logits", &Gpt2Model::logits)
      .function("sample", &Gpt2Model::sample)
      .function("generateOne", &Gpt2Model::generateOne)
      .function("contextFull", &Gpt2Model::contextFull)
      .function("length", &Gpt2Model::length)
      .function("tokens", &Gpt2Model::tokens);
  function("gpt2RngStream", &gpt2RngStream);
}
