export { SemanticCache } from './semantic-cache.js';
export type {
  SemanticCacheApi,
  SemanticCacheOptions,
  WorkerEmbedderOptions,
  VerifierOptions,
  CallOptions,
  GetOptions,
  PutOptions,
  GetOrComputeOptions,
  ClearOptions,
  EntriesOptions,
  ComputeFunction,
  GetResult,
  GetHit,
  GetMiss,
  PutResult,
  ComputeResult,
  FeedbackResult,
  Candidate,
  EntryInfo,
  SemanticCacheStats,
  Timings,
  NextCache,
  SharePolicy,
  ExportOptions,
  ImportOptions,
  ImportResult,
  ImportSource,
} from './api.js';
export type { OpfsCache, OpfsCacheOptions } from './api-opfs.js';
export { remoteCache } from './remote-cache.js';
export type { RemoteCache, RemoteCacheOptions } from './remote-cache.js';
export { ERROR_CODES, SemcacheError, isErrorCode } from './errors.js';
export type { SemcacheErrorCode } from './errors.js';
export type { Embedder, EmbedFunction } from './embedder.js';
export type { CacheStore, CacheRow, SnapshotSink, StoreBatch, StoreChanges, StoreInfo, StoreSnapshot } from './store.js';
export type { OpfsSemanticCache } from './opfs.js';
export { MemoryStore } from './stores/memory.js';
export { scopeKey } from './scope.js';
export type { Scope, ScopeInput } from './scope.js';
export { loadCore } from './wasm.js';
export type { LoadCoreOptions } from './wasm.js';
export type { FetchProgress } from './net.js';
export { forgetDownload, inspectDownload } from './resumable.js';
export { Gpt2 } from './gpt2.js';
export type {
  Gpt2LoadOptions,
  Gpt2GenerateOptions,
  Gpt2Info,
  Gpt2Stats,
  Gpt2TokenEvent,
  Gpt2Progress,
  Gpt2Source,
  Gpt2WeightFormat,
} from './gpt2.js';
export { joinedAnswer, joinedPieces, followJoined } from './flights.js';
export type { BeginResult, FlightEnd, FlightProgress, Joined, Leader } from './flights.js';
