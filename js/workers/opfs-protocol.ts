// What the page (js/opfs.ts) and the OPFS worker (opfs-worker.ts) say to each other over
// js/rpc.ts, and what other tabs say to the tab that owns the worker: the same verbs, relayed.
// Types only, plus the verb list the owner relays: both sides import this module, and importing
// it starts nothing.
import type {
  ClearOptions,
  EntriesOptions,
  EntryInfo,
  FeedbackResult,
  WorkerEmbedderOptions,
  GetResult,
  PutResult,
  SemanticCacheOptions,
  SemanticCacheStats,
} from '../api.js';
import type { MemoStamp } from '../exact-memo.js';
import type { FetchProgress } from '../net.js';
import type { ScopeInput } from '../scope.js';
import type { TransferEntry } from '../transfer/format.js';
import type { ExportFilter } from '../transfer/transfer.js';
import type { RowsAt } from '../internal.js';
import type { StoreBatch } from '../store.js';

/** SemanticCache options that are plain data: what the worker's cache is opened with. The
 * embedder and the verifier's function stay on the page. */
export type WorkerCacheOptions = Omit<
  SemanticCacheOptions,
  'embedder' | 'dimensions' | 'store' | 'storage' | 'path' | 'onCorrupt' | 'clock' | 'wasm' | 'verifier' | 'evaluatorModel' | 'next' | 'share'
> & { evaluatorModel?: string | Uint8Array };

/** OpfsCacheOptions.workerEmbedder as it crosses: URLs absolute (the page's), no callback. */
export type WireEmbedderOptions = Omit<WorkerEmbedderOptions, 'onProgress' | 'model' | 'tokenizer' | 'wasmPaths' | 'ort'> & {
  model?: string | Uint8Array;
  tokenizer?: string;
  wasmPaths?: string | { mjs?: string; wasm?: string };
  ort?: string;
};

export interface WorkerOpenArgs {
  name: string;
  /** The page's embedder's vector length, id and cosine threshold (what a cache with it uses when
   * given none); absent when the worker embeds (`embedder`). */
  dimensions?: number;
  embedderId?: string;
  defaultThreshold?: number;
  /** The model the worker loads and embeds with: calls then come without vectors. */
  embedder?: WireEmbedderOptions;
  /** Where to import @sqlite.org/sqlite-wasm from when there is no bundler (a URL). */
  sqliteUrl?: string;
  options: WorkerCacheOptions;
  onCorrupt?: 'error' | 'reset';
  /** The share of the origin's quota the cache's files may take (OpfsCacheOptions.storageShare). */
  storageShare: number;
}

/** The verifier as it crosses: its band and budget; its function runs on the calling page. */
export interface WireVerifier {
  band: [number, number];
  timeoutMs?: number;
}

/** A call's options as they cross: data only, with the vector the page computed (none when the
 * worker embeds). */
export interface WireGetOptions {
  scope?: ScopeInput;
  vector?: Float32Array;
  threshold?: number;
  /** The calling page's verifier: the worker asks it through a VerifyEvent. */
  verifier?: WireVerifier;
}

export interface WirePutOptions {
  scope?: ScopeInput;
  vector?: Float32Array;
  ttl?: number;
  metadata?: unknown;
}

/** Emitted by `get` when its best match lies in the verifier's band: the page runs its verifier
 * and answers with `verdict(token, ...)` (a miss if no verdict comes within timeoutMs). */
export interface VerifyEvent {
  token: number;
  query: string;
  cachedPrompt: string;
  cachedAnswer: string;
}

/** The worker's verbs. */
export interface OpfsProtocol {
  open(args: WorkerOpenArgs): { dimensions: number; threshold: number; embedder: string };
  /** A miss the worker embedded for carries its vector back, for the put that may follow; an
   * exact hit carries what a page needs to answer its repeats itself (js/exact-memo.ts). */
  get(prompt: string, options: WireGetOptions): GetResult & { vector?: Float32Array; memo?: MemoStamp; seq: number; epoch: number };
  verdict(token: number, verdict: boolean | { error: string }): void;
  put(prompt: string, answer: string, options: WirePutOptions): PutResult & { memo?: MemoStamp; seq: number; epoch: number };
  /** Exact hits a page answered from its memo: counted and touched here. */
  exactHits(hits: WireExactHit[]): void;
  /** Every entry's row, for a page that keeps a copy of them (js/opfs-page-index.ts), at the
   * store's seq; `over` instead when the cache is past the page's limits. */
  pageRows(limits: { maxEntries: number; maxBytes: number }): RowsAt & { epoch: number };
  /** Semantic hits a page decided on its copy: counted and recorded here as lookups' hits. */
  pageHits(hits: WirePageHit[]): void;
  /** Writes answer with the store's position after them (Written): see js/opfs-page-index.ts. */
  feedback(id: number, verdict: { correct: boolean }): Written<FeedbackResult>;
  delete(id: number): Written<boolean>;
  clear(options: ClearOptions): Written<number>;
  entries(options: EntriesOptions): EntryInfo[];
  stats(): SemanticCacheStats;
  flush(): void;
  integrityCheck(): string;
  databaseBytes(): number;
  count(): number;
  exportOpen(filter: ExportFilter): number;
  exportNext(session: number, limit: number): TransferEntry[] | null;
  importBatch(token: number, entries: TransferEntry[]): Written<number>;
  importEnd(token: number, commit: boolean): Written<void>;
  close(): void;
}

/** The events each verb's handler emits. */
export interface OpfsEvents {
  get: VerifyEvent;
  /** The worker's embedder model downloading. */
  open: FetchProgress;
}

export interface WireExactHit {
  prompt: string;
  scope?: ScopeInput;
}

/** A write's result and the store's position after it (the worker's life and its seq). */
export interface Written<T> {
  value: T;
  seq: number;
  epoch: number;
}

export interface WirePageHit {
  id: number;
  score: number;
}

/** A batch the worker's store took (its seq after it), for pages that keep a copy of the entries. */
export interface RowsChange {
  /** The worker's life (a copy made under another is made again). */
  epoch: number;
  seq: number;
  batch: StoreBatch;
}

/** The BroadcastChannel on which the worker streams its store's batches (RowsChange). */
export const rowsChannel = (name: string): string => `semcache-opfs-rows:${name}`;

/** The BroadcastChannel on which a cache's worker announces the entries that left its core
 * (MemoChange), for the pages that answer exact repeats themselves. */
export const changesChannel = (name: string): string => `semcache-opfs-changes:${name}`;

/** What another tab may ask of the owner, which relays it to its worker (open and close are the owner's own). */
export const RELAYED_VERBS = [
  'get',
  'verdict',
  'put',
  'exactHits',
  'pageRows',
  'pageHits',
  'feedback',
  'delete',
  'clear',
  'entries',
  'stats',
  'flush',
  'integrityCheck',
  'databaseBytes',
  'count',
  'exportOpen',
  'exportNext',
  'importBatch',
  'importEnd',
] as const satisfies readonly Exclude<keyof OpfsProtocol, 'open' | 'close'>[];

export type RelayedVerb = (typeof RELAYED_VERBS)[number];
