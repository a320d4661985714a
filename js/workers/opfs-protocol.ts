// What the page (js/opfs.ts) and the OPFS worker (opfs-worker.ts) say to each other over
// js/rpc.ts, and what other tabs say to the tab that owns the worker: the same verbs, relayed.
// Types only, plus the verb list the owner relays: both sides import this module, and importing
// it starts nothing.
import type {
  ClearOptions,
  EntriesOptions,
  EntryInfo,
  FeedbackResult,
  GetResult,
  PutResult,
  SemanticCacheOptions,
  SemanticCacheStats,
} from '../api.js';
import type { ScopeInput } from '../scope.js';

/** SemanticCache options that are plain data: what the worker's cache is opened with. The
 * embedder and the verifier's function stay on the page. */
export type WorkerCacheOptions = Omit<
  SemanticCacheOptions,
  'embedder' | 'dimensions' | 'store' | 'storage' | 'path' | 'onCorrupt' | 'clock' | 'wasm' | 'verifier' | 'evaluatorModel'
> & { evaluatorModel?: string | Uint8Array };

export interface WorkerOpenArgs {
  name: string;
  dimensions: number;
  embedderId: string;
  /** Where to import @sqlite.org/sqlite-wasm from when there is no bundler (a URL). */
  sqliteUrl?: string;
  options: WorkerCacheOptions;
  onCorrupt?: 'error' | 'reset';
}

/** The verifier as it crosses: its band and budget; its function runs on the calling page. */
export interface WireVerifier {
  band: [number, number];
  timeoutMs?: number;
}

/** A call's options as they cross: data only, with the vector the page computed. */
export interface WireGetOptions {
  scope?: ScopeInput;
  vector: Float32Array;
  threshold?: number;
  /** The calling page's verifier: the worker asks it through a VerifyEvent. */
  verifier?: WireVerifier;
}

export interface WirePutOptions {
  scope?: ScopeInput;
  vector: Float32Array;
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
  open(args: WorkerOpenArgs): { dimensions: number; threshold: number };
  get(prompt: string, options: WireGetOptions): GetResult;
  verdict(token: number, verdict: boolean | { error: string }): void;
  put(prompt: string, answer: string, options: WirePutOptions): PutResult;
  feedback(id: number, verdict: { correct: boolean }): FeedbackResult;
  delete(id: number): boolean;
  clear(options: ClearOptions): number;
  entries(options: EntriesOptions): EntryInfo[];
  stats(): SemanticCacheStats;
  flush(): void;
  integrityCheck(): string;
  databaseBytes(): number;
  count(): number;
  close(): void;
}

/** The events each verb's handler emits. */
export interface OpfsEvents {
  get: VerifyEvent;
}

/** What another tab may ask of the owner, which relays it to its worker (open and close are the owner's own). */
export const RELAYED_VERBS = [
  'get',
  'verdict',
  'put',
  'feedback',
  'delete',
  'clear',
  'entries',
  'stats',
  'flush',
  'integrityCheck',
  'databaseBytes',
  'count',
] as const satisfies readonly Exclude<keyof OpfsProtocol, 'open' | 'close'>[];

export type RelayedVerb = (typeof RELAYED_VERBS)[number];
