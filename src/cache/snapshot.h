#pragma once
// The cache snapshot, written in slices while the cache keeps serving, and read as a stream.
//
// Format (version 4): "SMCC", version, then units ([u8 kind][u32 length][payload]), then the
// number of bytes before it (u64) and the XXH64 of everything before the checksum. The units:
//   config       space, dim, entry count when the snapshot began, whether entries carry signatures
//   scope        slot, key
//   index        slot, then one VectorIndex unit (head, flat points, level-0 records or upper
//                link lists for a range of elements, graph state)
//   scope gone   slot
//   entries      entries (all fields, with their prompt signature if the config says so)
//   entries gone ids
//   end          seq, next id, entry count, scope count, whether every entry carries a signature
// A reader applies them in order; a later unit for the same element, entry or scope wins.
//
// Slices and consistency: the writer first writes every scope and entry as they are when it
// reaches them, then rewrites what changed since it began, then the graphs' state and the end,
// all in the step that finds nothing left to rewrite. The cache tells the writer what changes
// (Cache::writer_): entries put, touched or removed, scopes made or dropped, and each index
// tracks its own changed elements (VectorIndex::trackChanges: a new element and every
// neighbour whose list it joined). Each slice is synchronous, so the snapshot is the cache as it
// was in that last step: a consistent state, stamped with the seq the caller gives then.
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/cache.h"
#include "common/bytes.h"
#include "common/hash.h"

namespace semcache {

class SnapshotWriter {
 public:
  // track = false: a snapshot written in one call (Cache::snapshot), with nothing to follow.
  explicit SnapshotWriter(Cache& cache, bool track = true);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends whole units, about maxBytes of them (at least one), to out. Returns true when it
  // wrote the end: the snapshot is then complete and stamped with seq. Throws ABORTED when the
  // cache was cleared or replaced meanwhile (start a new writer).
  bool next(ByteWriter& out, size_t maxBytes, uint64_t seq);
  bool done() const { return phase_ == Phase::Done; }

  // From the cache, as it changes.
  void entryChanged(uint32_t id) { dirtyEntries_.push_back(id); }
  void scopeChanged(uint32_t slot);
  void cancel() { cancelled_ = true; }

  // Units are cut at about this size, whatever the slices: the bytes do not depend on how they
  // were sliced, and a reader buffers at most one unit.
  static constexpr size_t kUnitBytes = size_t(64) << 10;

 private:
  enum class Phase { Start, Scopes, Entries, Patches, Done };
  enum class Stage { None, Records, Links };
  bool step(ByteWriter& w, size_t budgetEnd, uint64_t seq);  // one piece of work; false: none left
  void startScope(ByteWriter& w, uint32_t slot);
  bool collectIndexPatches();
  void writeIndexPatches(ByteWriter& w, size_t budgetEnd);
  void writeEntryPatches(ByteWriter& w);
  void writeEnd(ByteWriter& w, uint64_t seq);

  Cache& c_;
  const bool track_;
  const bool signatures_;  // entries are written with their signatures (the cache's flag at the start)
  Phase phase_ = Phase::Start;
  bool cancelled_ = false;
  size_t start_ = 0;  // where this call's bytes begin in the caller's writer
  std::deque<uint32_t> scopeQueue_;  // slots to write whole
  uint32_t slot_ = 0;                // the scope being written, at stage_
  Stage stage_ = Stage::None;
  uint32_t nextElement_ = 0, endElement_ = 0;
  uint32_t nextEntry_ = 1, endEntry_ = 0;
  std::vector<uint32_t> dirtyEntries_;
  std::vector<uint64_t> patch_;  // changed elements being rewritten: slot << 32 | element id
  size_t patchAt_ = 0;
  std::vector<uint32_t> entryPatch_;  // changed entries being rewritten
  size_t entryAt_ = 0;
  Xxh64 hash_;
  uint64_t total_ = 0;
};

class SnapshotLoader {
 public:
  // Nothing of `cache` changes until finish() succeeds. totalBytes: the snapshot's size.
  SnapshotLoader(Cache& cache, uint64_t totalBytes);
  ~SnapshotLoader();
  // Bytes as they come, split anywhere. CORRUPT_SNAPSHOT, UNSUPPORTED_VERSION or
  // SNAPSHOT_MISMATCH as soon as they show.
  void push(const uint8_t* data, size_t size);
  // Validates the whole and replaces the cache's state; returns the seq it was stamped with.
  uint64_t finish();

 private:
  enum class State { Header, Units, Trailer, Done };
  size_t need(const uint8_t* p, size_t available) const;
  void consume(const uint8_t* p, size_t size);
  void unit(uint8_t kind, ByteReader& r);
  static bool flag(ByteReader& r);
  void needsNoSignatures() const;  // SNAPSHOT_MISMATCH when the cache's evaluator needs them

  Cache& c_;
  const uint64_t totalBytes_;
  State state_ = State::Header;
  std::vector<uint8_t> carry_;  // an item split across pushes
  Xxh64 hash_;
  uint64_t consumed_ = 0;
  struct Staged {
    std::string key;
    std::unique_ptr<VectorIndex> index;
  };
  std::unordered_map<uint32_t, Staged> scopes_;
  std::unordered_map<uint32_t, Entry> entries_;
  bool config_ = false;
  bool signatures_ = true, signed_ = true;  // the layout's flag, the end's
  uint64_t seq_ = 0, entryCount_ = 0;
  uint64_t entryHint_ = 0;  // the config unit's entry count: what a scope's graph is allocated for
  uint32_t nextId_ = 0, scopeCount_ = 0;
};

}  // namespace semcache
