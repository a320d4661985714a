/**
 * Where a cache persists. Rows are the source of truth; the snapshot (the core's state as bytes)
 * only makes opening fast and is rebuilt from rows when missing, stale or corrupt.
 * Contract: when `apply` resolves, the batch is durable (for a persistent store) and `seq` has
 * grown by one; a batch is all-or-nothing.
 */
export interface CacheRow {
  id: number;
  scope: string;
  prompt: string;
  promptHash: string;
  answer: string;
  answerBytes: number;
  vector: Float32Array;
  created: number;
  lastAccess: number;
  expiresAt: number;
  hits: number;
  metadata?: unknown;
  /** The entry's feedback offset on its hit threshold (SemanticCache.feedback); absent = 0. */
  thresholdOffset?: number;
}

export interface StoreInfo {
  /** Embedding dimensions, index space and embedder id: rows from another model are useless. */
  dimensions: number;
  space: string;
  embedder: string;
}

export interface StoreBatch {
  put?: CacheRow[];
  delete?: number[];
  /** Access bookkeeping for LRU/LFU after a reopen; may be batched lazily. */
  touch?: { id: number; lastAccess: number; hits: number; thresholdOffset?: number }[];
  /** Delete every row (before `put`). */
  clear?: boolean;
}

export interface StoreSnapshot {
  seq: number;
  bytes: Uint8Array;
}

/** A snapshot being written (CacheStore.beginSnapshot). */
export interface SnapshotSink {
  /**
   * `chunk` may be a view into the core's memory (js/snapshots.ts): valid until write()'s first
   * await, so a sink writes it (or copies what it keeps) before awaiting anything.
   */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes what was written the store's snapshot, for the rows up to `seq`. */
  commit(seq: number): Promise<void>;
  /** Drops what was written; the previous snapshot stays. */
  abort(): Promise<void>;
}

/** What batches after a given seq changed: rows put (their latest version) and ids deleted. */
export interface StoreChanges {
  rows: CacheRow[];
  deleted: number[];
}

export interface CacheStore {
  readonly kind: string;
  /** Opens (creating if needed). Returns the info the store was created with and its current seq. */
  open(info: StoreInfo): Promise<{ info: StoreInfo; seq: number; created: boolean }>;
  apply(batch: StoreBatch): Promise<number>;
  get(id: number): Promise<CacheRow | undefined>;
  /** All rows, in id order, in pages (so big caches don't need all rows in memory at once). */
  scan(onRows: (rows: CacheRow[]) => void): Promise<void>;
  /**
   * Optional: the changes of batches after `seq`, so an open can load an older snapshot and replay
   * only those; undefined when the store cannot tell (e.g. a clear came after `seq`).
   */
  changesSince?(seq: number): Promise<StoreChanges | undefined>;
  loadSnapshot(): Promise<StoreSnapshot | undefined>;
  /**
   * Optional, for big snapshots: asks `accept(size, seq)` whether to read the snapshot, then
   * hands its chunks to `onChunk` in order (each valid only during the call). Resolves the seq,
   * or undefined when there is no complete snapshot or accept declined.
   */
  loadSnapshotChunks?(accept: (size: number, seq: number) => boolean, onChunk: (chunk: Uint8Array) => void): Promise<number | undefined>;
  saveSnapshot(snapshot: StoreSnapshot): Promise<void>;
  /**
   * Optional, for big snapshots: a snapshot written chunk by chunk while the cache keeps
   * serving (the previous snapshot stays current until commit).
   */
  beginSnapshot?(): Promise<SnapshotSink>;
  /** Drops everything, including the info (the next open starts fresh). */
  destroy(): Promise<void>;
  close(): Promise<void>;
}
