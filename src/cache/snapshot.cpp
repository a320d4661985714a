#include "cache/snapshot.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/error.h"
#include "common/frame.h"

namespace semcache {
namespace {

constexpr uint32_t kMagic = fourcc("SMCC");
// v2: entries carry their feedback offset, last score and prompt signature; v3: a flag says
// whether they carry signatures; v4: units, written in slices, index heads recording the
// hnswlib version and label width (older snapshots are refused: the caller rebuilds from rows).
// The config unit's flags byte: bit 0 signatures, bit 1 normalized exact keys (a v4 snapshot
// written before bit 1 existed reads as verbatim keys).
constexpr uint32_t kVersion = 4;
enum Kind : uint8_t { kConfig = 1, kScope = 2, kIndex = 3, kScopeGone = 4, kEntries = 5, kEntriesGone = 6, kEnd = 7 };
constexpr uint32_t kMaxUnit = 1u << 30;  // a reader buffers one unit: refuse absurd lengths early

[[noreturn]] void corrupt(const std::string& what) {
  throw Error(codes::kCorruptSnapshot, "cache snapshot is inconsistent: " + what);
}

void writeEntry(ByteWriter& w, const Entry& e, bool signature) {  // field by field: no struct padding
  w.pod(e.id), w.pod(e.scope), w.pod(e.promptHash), w.pod(e.answerBytes);
  w.pod(e.created), w.pod(e.lastAccess), w.pod(e.expiresAt), w.pod(e.hits);
  w.pod(e.offset), w.pod(e.lastScore);
  if (signature) {
    static const Signature kNone;  // an entry put before the evaluator needed signatures
    writeSignature(w, e.sig ? *e.sig : kNone);
  }
}

Entry readEntry(ByteReader& r, bool signature) {
  Entry e;
  e.id = r.pod<uint32_t>("entry"), e.scope = r.pod<uint32_t>("entry"), e.promptHash = r.pod<uint64_t>("entry");
  e.answerBytes = r.pod<uint32_t>("entry"), e.created = r.pod<double>("entry");
  e.lastAccess = r.pod<double>("entry"), e.expiresAt = r.pod<double>("entry"), e.hits = r.pod<uint32_t>("entry");
  e.offset = r.pod<float>("entry"), e.lastScore = r.pod<float>("entry");
  if (signature) e.sig = std::make_shared<const Signature>(readSignature(r));
  if (!std::isfinite(e.offset) || !std::isfinite(e.lastScore))
    corrupt("entry " + std::to_string(e.id) + " has a non-finite offset");
  return e;
}

}  // namespace

// ---- writer ----

SnapshotWriter::SnapshotWriter(Cache& cache, bool track)
    : c_(cache), track_(track), signatures_(cache.signatures_) {
  if (track_) {
    c_.cancelSnapshot();  // one sliced snapshot at a time
    c_.writer_ = this;
  }
  for (uint32_t slot = 0; slot < c_.scopes_.size(); ++slot) {
    if (!c_.scopes_[slot]) continue;
    scopeQueue_.push_back(slot);
    if (track_) c_.scopes_[slot]->index->trackChanges(true);
  }
}

SnapshotWriter::~SnapshotWriter() {
  if (c_.writer_ == this) c_.cancelSnapshot();
}

void SnapshotWriter::scopeChanged(uint32_t slot) {
  if (stage_ != Stage::None && slot_ == slot) stage_ = Stage::None;  // that index is gone or new
  if (std::find(scopeQueue_.begin(), scopeQueue_.end(), slot) == scopeQueue_.end()) scopeQueue_.push_back(slot);
}

bool SnapshotWriter::next(ByteWriter& w, size_t maxBytes, uint64_t seq) {
  if (cancelled_) throw Error(codes::kAborted, "the cache was cleared or replaced while its snapshot was being written");
  if (phase_ == Phase::Done) throw Error(codes::kInvalidArgument, "the snapshot is already complete");
  start_ = w.size();
  const size_t budgetEnd = maxBytes > std::numeric_limits<size_t>::max() - start_ ? std::numeric_limits<size_t>::max()
                                                                                 : start_ + std::max<size_t>(maxBytes, 1);
  while (w.size() < budgetEnd && step(w, budgetEnd, seq)) {
  }
  if (phase_ != Phase::Done) {
    hash_.update(w.bytes().data() + start_, w.size() - start_);
    total_ += w.size() - start_;
  }
  return phase_ == Phase::Done;
}

bool SnapshotWriter::step(ByteWriter& w, size_t budgetEnd, uint64_t seq) {
  // Units are cut by kUnitBytes alone, so the bytes do not depend on the slice size.
  switch (phase_) {
    case Phase::Start: {
      w.pod(kMagic);
      w.pod(kVersion);
      size_t at = w.beginUnit(kConfig);
      w.pod(static_cast<uint32_t>(c_.config_.index.space));
      w.pod(c_.config_.index.dim);
      w.pod(static_cast<uint64_t>(c_.entries_.size()));
      // bit 0: entries carry signatures; bit 1: exact keys are of normalized prompts
      w.pod(uint8_t((signatures_ ? 1 : 0) | (c_.config_.normalizedKeys ? 2 : 0)));
      w.endUnit(at);
      phase_ = Phase::Scopes;
      return true;
    }
    case Phase::Entries: {
      if (nextEntry_ >= endEntry_) {
        phase_ = Phase::Patches;
        return true;
      }
      size_t limit = w.size() + kUnitBytes;
      size_t at = w.beginUnit(kEntries);
      size_t countAt = w.size();
      uint32_t count = 0;
      w.pod(count);
      // Ids in order; a step looks at a bounded window of them (they may be sparse after churn).
      const uint32_t window = nextEntry_ + std::min<uint32_t>(endEntry_ - nextEntry_, 1u << 16);
      for (; nextEntry_ < window && w.size() < limit; ++nextEntry_) {
        auto it = c_.entries_.find(nextEntry_);
        if (it == c_.entries_.end()) continue;
        writeEntry(w, it->second, signatures_);
        ++count;
      }
      std::memcpy(w.bytes().data() + countAt, &count, 4);
      w.endUnit(at);
      return true;
    }
    case Phase::Done: return false;
    case Phase::Scopes:
    case Phase::Patches: break;
  }
  if (stage_ != Stage::None) {  // the scope being written, a range of elements at a time
    const VectorIndex& idx = *c_.scopes_[slot_]->index;
    uint32_t count = 0;
    if (stage_ == Stage::Records) {
      count = uint32_t(std::min<size_t>(endElement_ - nextElement_, std::max<size_t>(1, kUnitBytes / idx.recordBytes())));
    } else {
      for (size_t bytes = 8; nextElement_ + count < endElement_ && (count == 0 || bytes < kUnitBytes); ++count)
        bytes += 4 + idx.linkBytes(nextElement_ + count);
    }
    size_t at = w.beginUnit(kIndex);
    w.pod(slot_);
    if (stage_ == Stage::Records) idx.writeRecords(w, nextElement_, count);
    else idx.writeLinks(w, nextElement_, count);
    w.endUnit(at);
    nextElement_ += count;
    if (nextElement_ == endElement_) {
      nextElement_ = 0;
      stage_ = stage_ == Stage::Records ? Stage::Links : Stage::None;
    }
    return true;
  }
  if (!scopeQueue_.empty()) {
    uint32_t slot = scopeQueue_.front();
    scopeQueue_.pop_front();
    startScope(w, slot);
    return true;
  }
  if (phase_ == Phase::Scopes) {
    phase_ = Phase::Entries;
    nextEntry_ = 1;
    endEntry_ = c_.nextId_;
    return true;
  }
  // Patches: what changed since the writer began, until a step finds nothing left. (A writer
  // that does not track has nothing to patch, and must not take a tracking writer's changes.)
  if (track_ && (patchAt_ < patch_.size() || collectIndexPatches())) {
    writeIndexPatches(w, budgetEnd);
    return true;
  }
  if (!dirtyEntries_.empty() || entryAt_ < entryPatch_.size()) {
    if (entryAt_ == entryPatch_.size()) {
      entryPatch_.swap(dirtyEntries_);
      dirtyEntries_.clear();
      std::sort(entryPatch_.begin(), entryPatch_.end());
      entryPatch_.erase(std::unique(entryPatch_.begin(), entryPatch_.end()), entryPatch_.end());
      entryAt_ = 0;
    }
    writeEntryPatches(w);
    return true;
  }
  writeEnd(w, seq);
  return false;
}

void SnapshotWriter::startScope(ByteWriter& w, uint32_t slot) {
  const Cache::Scope* s = slot < c_.scopes_.size() ? c_.scopes_[slot].get() : nullptr;
  if (!s) {
    size_t at = w.beginUnit(kScopeGone);
    w.pod(slot);
    w.endUnit(at);
    return;
  }
  if (track_) s->index->takeChanges();  // all of it is written from here: track afresh
  size_t at = w.beginUnit(kScope);
  w.pod(slot);
  w.str(s->key);
  w.endUnit(at);
  at = w.beginUnit(kIndex);
  w.pod(slot);
  s->index->writeHead(w);
  w.endUnit(at);
  if (!s->index->isGraph()) {
    at = w.beginUnit(kIndex);
    w.pod(slot);
    s->index->writeFlat(w);
    w.endUnit(at);
    return;
  }
  slot_ = slot;
  stage_ = Stage::Records;
  nextElement_ = 0;
  endElement_ = s->index->elementCount();
  if (endElement_ == 0) stage_ = Stage::None;
}

bool SnapshotWriter::collectIndexPatches() {
  patch_.clear();
  patchAt_ = 0;
  for (uint32_t slot = 0; slot < c_.scopes_.size(); ++slot) {
    if (!c_.scopes_[slot]) continue;
    auto ch = c_.scopes_[slot]->index->takeChanges();
    if (ch.all) {
      scopeChanged(slot);
      continue;
    }
    for (uint32_t id : ch.ids) patch_.push_back((uint64_t(slot) << 32) | id);
  }
  std::sort(patch_.begin(), patch_.end());
  patch_.erase(std::unique(patch_.begin(), patch_.end()), patch_.end());
  return !patch_.empty() || !scopeQueue_.empty();
}

// Runs of consecutive elements of one scope, each as a records unit and a links unit.
void SnapshotWriter::writeIndexPatches(ByteWriter& w, size_t budgetEnd) {
  while (patchAt_ < patch_.size() && w.size() < budgetEnd) {
    uint32_t slot = uint32_t(patch_[patchAt_] >> 32), first = uint32_t(patch_[patchAt_]);
    size_t run = 1;
    while (patchAt_ + run < patch_.size() && patch_[patchAt_ + run] == patch_[patchAt_] + run && run < 64) ++run;
    patchAt_ += run;
    const Cache::Scope* s = slot < c_.scopes_.size() ? c_.scopes_[slot].get() : nullptr;
    // Dropped, or replaced by a new index (rewritten whole: these ids may not exist in it).
    if (!s || !s->index->isGraph() || first + run > s->index->elementCount()) continue;
    for (bool records : {true, false}) {
      size_t at = w.beginUnit(kIndex);
      w.pod(slot);
      if (records) s->index->writeRecords(w, first, uint32_t(run));
      else s->index->writeLinks(w, first, uint32_t(run));
      w.endUnit(at);
    }
  }
}

void SnapshotWriter::writeEntryPatches(ByteWriter& w) {
  std::vector<uint32_t> gone;
  size_t at = w.beginUnit(kEntries);
  size_t countAt = w.size();
  uint32_t count = 0;
  w.pod(count);
  size_t limit = w.size() + kUnitBytes;
  for (; entryAt_ < entryPatch_.size() && (count + gone.size() == 0 || w.size() < limit); ++entryAt_) {
    auto it = c_.entries_.find(entryPatch_[entryAt_]);
    if (it == c_.entries_.end()) {
      gone.push_back(entryPatch_[entryAt_]);
      continue;
    }
    writeEntry(w, it->second, signatures_);
    ++count;
  }
  std::memcpy(w.bytes().data() + countAt, &count, 4);
  w.endUnit(at);
  if (gone.empty()) return;
  at = w.beginUnit(kEntriesGone);
  w.pod(uint32_t(gone.size()));
  for (uint32_t id : gone) w.pod(id);
  w.endUnit(at);
}

void SnapshotWriter::writeEnd(ByteWriter& w, uint64_t seq) {
  uint32_t scopes = 0;
  for (uint32_t slot = 0; slot < c_.scopes_.size(); ++slot) {
    const Cache::Scope* s = c_.scopes_[slot].get();
    if (!s) continue;
    ++scopes;
    if (!s->index->isGraph()) continue;
    size_t at = w.beginUnit(kIndex);
    w.pod(slot);
    s->index->writeState(w);
    w.endUnit(at);
  }
  size_t at = w.beginUnit(kEnd);
  w.pod(seq);
  w.pod(c_.nextId_);
  w.pod(static_cast<uint64_t>(c_.entries_.size()));
  w.pod(scopes);
  // Whether every entry carries a signature: the layout's flag, unless an entry without one came
  // meanwhile. (A cache that gained them meanwhile — emptied, then reconfigured — says no: a
  // learned cache then rebuilds from rows.)
  w.pod(uint8_t(signatures_ && c_.signatures_ ? 1 : 0));
  w.endUnit(at);
  total_ += w.size() - start_;
  w.pod(total_);
  hash_.update(w.bytes().data() + start_, w.size() - start_);
  w.pod(hash_.digest());
  phase_ = Phase::Done;
  if (c_.writer_ == this) c_.cancelSnapshot();  // done: the cache need not report changes any more
}

// ---- loader ----

SnapshotLoader::SnapshotLoader(Cache& cache, uint64_t totalBytes) : c_(cache), totalBytes_(totalBytes) {}
SnapshotLoader::~SnapshotLoader() = default;

size_t SnapshotLoader::need(const uint8_t* p, size_t available) const {
  switch (state_) {
    case State::Header: return 8;
    case State::Trailer: return 16;
    case State::Done: corrupt("bytes after its end");
    case State::Units: break;
  }
  if (available < 5) return 5;
  uint32_t len;
  std::memcpy(&len, p + 1, 4);
  if (len > kMaxUnit) corrupt("a unit of " + std::to_string(len) + " bytes");
  return 5 + size_t(len);
}

void SnapshotLoader::push(const uint8_t* p, size_t n) {
  while (n) {
    if (!carry_.empty()) {  // finish the item split across pushes first
      size_t want = need(carry_.data(), carry_.size());
      size_t take = std::min(n, want - carry_.size());
      carry_.insert(carry_.end(), p, p + take);
      p += take;
      n -= take;
      if (carry_.size() < want) continue;
      want = need(carry_.data(), carry_.size());  // a unit's first 5 bytes tell its length
      if (carry_.size() < want) continue;
      consume(carry_.data(), want);
      carry_.clear();
      continue;
    }
    size_t want = need(p, n);
    if (want > n) {
      carry_.assign(p, p + n);
      return;
    }
    consume(p, want);
    p += want;
    n -= want;
  }
}

void SnapshotLoader::consume(const uint8_t* p, size_t size) {
  if (state_ == State::Trailer) {
    uint64_t total, sum;
    std::memcpy(&total, p, 8);
    if (total != consumed_ || consumed_ + 16 != totalBytes_) corrupt("its length disagrees with its end");
    hash_.update(p, 8);
    std::memcpy(&sum, p + 8, 8);
    if (sum != hash_.digest()) throw Error(codes::kCorruptSnapshot, "cache snapshot failed its checksum");
    state_ = State::Done;
    return;
  }
  hash_.update(p, size);
  consumed_ += size;
  if (state_ == State::Header) {
    uint32_t magic, version;
    std::memcpy(&magic, p, 4);
    std::memcpy(&version, p + 4, 4);
    if (magic != kMagic) throw Error(codes::kCorruptSnapshot, "cache snapshot has the wrong magic: not a cache snapshot");
    if (version != kVersion)
      throw Error(codes::kUnsupportedVersion, "cache snapshot has format version " + std::to_string(version) +
                                                  ", this build reads version " + std::to_string(kVersion));
    state_ = State::Units;
    return;
  }
  ByteReader r(p + 5, size - 5);
  unit(p[0], r);
}

void SnapshotLoader::unit(uint8_t kind, ByteReader& r) {
  if (!config_ && kind != kConfig) corrupt("no config first");
  switch (kind) {
    case kConfig: {
      uint32_t space = r.pod<uint32_t>("space"), dim = r.pod<uint32_t>("dim");
      uint64_t hint = r.pod<uint64_t>("entry count");
      uint8_t flags = r.pod<uint8_t>("config flags");
      if (flags > 3) corrupt("bad config flags");
      signatures_ = flags & 1;
      if (r.remaining()) corrupt("a config unit of another length");
      if (bool(flags & 2) != c_.config_.normalizedKeys)
        throw Error(codes::kSnapshotMismatch, std::string("cache snapshot keys exact matches by ") +
                                                  (flags & 2 ? "normalized" : "verbatim") +
                                                  " prompts, this cache by " +
                                                  (c_.config_.normalizedKeys ? "normalized" : "verbatim") +
                                                  " ones: rebuild from the rows");
      const IndexParams& want = c_.config_.index;
      if (space != uint32_t(want.space) || dim != want.dim)
        throw Error(codes::kSnapshotMismatch, "cache snapshot is for " + std::to_string(dim) + "-d " +
                                                  spaceName(SpaceKind(space)) + " vectors, the cache is " +
                                                  std::to_string(want.dim) + "-d " + spaceName(want.space));
      if (!signatures_) needsNoSignatures();
      entryHint_ = std::min<uint64_t>(hint, totalBytes_ / 40);  // an entry takes 40+ bytes
      entries_.reserve(entryHint_);
      config_ = true;
      break;
    }
    case kScope: {
      uint32_t slot = r.pod<uint32_t>("scope slot");
      if (slot > totalBytes_ / 16) corrupt("scope slot " + std::to_string(slot));  // each scope takes 16+ bytes
      scopes_[slot] = Staged{r.str("scope key"), nullptr};
      break;
    }
    case kScopeGone: scopes_.erase(r.pod<uint32_t>("scope slot")); break;
    case kIndex: {
      auto it = scopes_.find(r.pod<uint32_t>("scope slot"));
      if (it == scopes_.end()) corrupt("index data for no scope");
      uint8_t inner;
      ByteReader u = r.unit(inner);
      if (r.remaining()) corrupt("an index unit of another length");
      if (inner == VectorIndex::kHeadUnit) {
        it->second.index = VectorIndex::fromHead(u, totalBytes_, entryHint_);
        const IndexParams& p = it->second.index->params();
        if (p.dim != c_.config_.index.dim || p.space != c_.config_.index.space) corrupt("a scope index of another shape");
      } else {
        if (!it->second.index) corrupt("index data before its head");
        it->second.index->loadUnit(inner, u);
      }
      break;
    }
    case kEntries: {
      uint32_t n = r.pod<uint32_t>("entry count");
      for (uint32_t i = 0; i < n; ++i) {
        Entry e = readEntry(r, signatures_);
        uint32_t id = e.id;
        entries_[id] = std::move(e);
      }
      if (r.remaining()) corrupt("an entries unit of another length");
      break;
    }
    case kEntriesGone: {
      uint32_t n = r.pod<uint32_t>("id count");
      for (uint32_t i = 0; i < n; ++i) entries_.erase(r.pod<uint32_t>("id"));
      break;
    }
    case kEnd:
      seq_ = r.pod<uint64_t>("seq");
      nextId_ = r.pod<uint32_t>("next id");
      entryCount_ = r.pod<uint64_t>("entry count");
      scopeCount_ = r.pod<uint32_t>("scope count");
      signed_ = flag(r);
      if (r.remaining()) corrupt("an end unit of another length");
      if (signed_ && !signatures_) corrupt("signatures in the end but not in the layout");
      if (!signed_) needsNoSignatures();
      state_ = State::Trailer;
      break;
    default: corrupt("unknown unit " + std::to_string(kind));
  }
}

bool SnapshotLoader::flag(ByteReader& r) {
  uint8_t f = r.pod<uint8_t>("signatures flag");
  if (f > 1) corrupt("a bad signatures flag");
  return f == 1;
}

void SnapshotLoader::needsNoSignatures() const {
  if (c_.needsSignatures())
    throw Error(codes::kSnapshotMismatch, "cache snapshot was written without prompt signatures, which the '" +
                                              c_.evaluator_->name() + "' evaluator needs: rebuild from the rows");
}

uint64_t SnapshotLoader::finish() {
  if (state_ != State::Done) corrupt("truncated");
  if (scopes_.size() != scopeCount_ || entries_.size() != entryCount_) corrupt("entry or scope count");
  uint32_t slots = 0;
  std::unordered_map<std::string, uint32_t> scopeIndex;
  for (auto& [slot, s] : scopes_) {
    if (!s.index) corrupt("a scope without its index");
    s.index->finishLoad();
    s.index->setEfSearch(c_.config_.index.efSearch);
    if (!scopeIndex.emplace(s.key, slot).second) corrupt("a scope twice");
    slots = std::max(slots, slot + 1);
  }
  std::vector<std::unique_ptr<Cache::Scope>> scopes(slots);
  for (auto& [slot, s] : scopes_) {
    scopes[slot] = std::make_unique<Cache::Scope>();
    scopes[slot]->key = std::move(s.key);
    scopes[slot]->index = std::move(s.index);
  }
  uint64_t bytes = 0;
  size_t indexed = 0;
  for (const auto& s : scopes) indexed += s ? s->index->size() : 0;
  for (const auto& [id, e] : entries_) {
    if (e.id == 0 || e.id >= nextId_ || e.scope >= slots || !scopes[e.scope] || !scopes[e.scope]->index->contains(e.id))
      corrupt("entry " + std::to_string(e.id) + " is inconsistent");
    scopes[e.scope]->exact[e.promptHash] = e.id;
    bytes += e.answerBytes + c_.vectorBytes();
  }
  if (indexed != entries_.size()) corrupt("entries and indexes disagree");
  c_.cancelSnapshot();
  c_.scopes_ = std::move(scopes);
  c_.scopeIndex_ = std::move(scopeIndex);
  c_.entries_ = std::move(entries_);
  c_.nextId_ = nextId_;
  c_.bytes_ = bytes;
  c_.signatures_ = signed_;
  return seq_;
}

}  // namespace semcache
