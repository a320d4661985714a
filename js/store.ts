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

export interface CacheStore {
  readonly kind: string;
  /** Opens (creating if needed). Returns the info the store was created with and its current seq. */
  open(info: StoreInfo): Promise<{ info: StoreInfo; seq: number; created: boolean }>;
  apply(batch: StoreBatch): Promise<number>;
  get(id: number): Promise<CacheRow | undefined>;
  /** All rows, in id order, in pages (so big caches don't need all rows in memory at once). */
  scan(onRows: (rows: CacheRow[]) => void): Promise<void>;
  loadSnapshot(): Promise<StoreSnapshot | undefined>;
  saveSnapshot(snapshot: StoreSnapshot): Promise<void>;
  /** Drops everything, including the info (the next open starts fresh). */
  destroy(): Promise<void>;
  close(): Promise<void>;
}
