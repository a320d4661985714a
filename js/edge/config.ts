// The edge worker's configuration: wrangler.toml [vars] and secrets, checked once per read.
import { SemcacheError } from '../errors.js';

/** The Durable Object namespace binding, as much of it as the worker uses. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { call(op: string, args: unknown[]): Promise<unknown> };
}

export interface EdgeEnv {
  /** Durable Object namespace of class SemcacheShard (SQLite-backed). */
  CACHE: DurableObjectNamespaceLike;
  /** The OpenAI-compatible LLM, e.g. https://api.openai.com (with or without /v1). */
  UPSTREAM_BASE_URL?: string;
  /** Secret. When set it replaces the client's Authorization; when absent the client's is passed on
   * and entries are kept per client credential (then CREDENTIAL_HASH_KEY is required). */
  UPSTREAM_API_KEY?: string;
  /** Secret: the key of the hash of clients' credentials in pass-through mode. */
  CREDENTIAL_HASH_KEY?: string;
  /** Secret: the token (X-Semcache-Admin-Token) that /cache/put, /cache/clear and /cache/flush
   * need. Without it those routes are off. */
  ADMIN_TOKEN?: string;
  /** Secret: verified tenants through an authenticating proxy that sends it in
   * X-Semcache-Proxy-Secret with the tenant header; other requests are refused. */
  TENANT_PROXY_SECRET?: string;
  /** Secret: verified tenants by token, a JSON object {"token": "tenant"} (X-Semcache-Tenant-Token). */
  TENANT_TOKENS?: string;
  /** Comma-separated origins that may call from other sites (CORS). Default none. */
  CORS_ORIGINS?: string;
  /** Largest request body in bytes. Default 1,048,576. */
  MAX_BODY_BYTES?: string;
  /** The request body must arrive within this many ms. Default 30,000. */
  BODY_TIMEOUT_MS?: string;
  /** Largest POST /cache/import body in bytes (read as it streams in). Default 67,108,864 (64 MiB). */
  MAX_IMPORT_BYTES?: string;
  /** The import body must arrive within this many ms. Default 600,000. */
  IMPORT_TIMEOUT_MS?: string;
  /** The upstream must answer, and keep streaming, within this many ms. Default 60,000. */
  UPSTREAM_TIMEOUT_MS?: string;
  /** "remote" (default): an OpenAI-compatible embeddings API (EMBEDDINGS_*). "use-lite": the
   * bundled int8 Universal Sentence Encoder lite, run in the isolate with ONNX Runtime Web; needs
   * the worker entry that carries it (workers/edge/worker-onnx.mjs). */
  EMBEDDER?: string;
  /** OpenAI-compatible embeddings API base URL and model (EMBEDDER "remote"). */
  EMBEDDINGS_URL?: string;
  EMBEDDINGS_MODEL?: string;
  /** Secret for the embeddings API. */
  EMBEDDINGS_API_KEY?: string;
  /** Vector length (checked on every response); absent = learned from the first response. */
  EMBEDDINGS_DIMENSIONS?: string;
  /** "true": send EMBEDDINGS_DIMENSIONS as the request's `dimensions` (OpenAI's v3 models shorten
   * their vectors on request; other servers may reject the field). Default false. */
  EMBEDDINGS_SEND_DIMENSIONS?: string;
  EMBEDDINGS_TIMEOUT_MS?: string;
  /** Cosine similarity in [-1, 1] a lookup needs to be a hit (a plain cosine evaluator). Default
   * 0.9 (remote); with use-lite, unset: the bundled model's calibrated evaluator (the learned one
   * at 2% false hits). */
  SIMILARITY_THRESHOLD?: string;
  /** Durable Objects per tenant; a scope (model + system prompt + parameters) lives in one. Default 1. */
  SHARDS_PER_TENANT?: string;
  /** Index vectors: "int8" (a quarter of the memory; cosine error ~1e-3) or "f32". Default int8. */
  INDEX_SPACE?: string;
  /** Entries kept per shard (LRU beyond). Default 20,000 (see README for the memory it takes). */
  MAX_ENTRIES?: string;
  /** Entry lifetime in seconds; 0 = forever. Default 0. */
  TTL_SECONDS?: string;
  /** Header naming the tenant. Default x-semcache-tenant. */
  TENANT_HEADER?: string;
  /** Shards with an open cache per isolate (they share one wasm module); the least recently
   * used idle one is closed beyond this. Default 4. */
  MAX_SHARDS_PER_ISOLATE?: string;
  /** Delay after a write before the shard saves its index snapshot (ms); 0 = never. Default 30,000. */
  SNAPSHOT_DELAY_MS?: string;
}

export interface EdgeConfig {
  upstreamBaseUrl: string;
  embedder: 'remote' | 'use-lite';
  /** Empty with EMBEDDER use-lite. */
  embeddingsUrl: string;
  embeddingsModel: string;
  embeddingsDimensions?: number;
  sendDimensions: boolean;
  space: 'int8' | 'f32';
  embeddingsTimeoutMs: number;
  /** undefined: the embedder's calibrated default (use-lite). */
  threshold?: number;
  shardsPerTenant: number;
  maxEntries: number;
  ttlMs: number;
  tenantHeader: string;
  snapshotDelayMs: number;
  maxShardsPerIsolate: number;
  corsOrigins: string[];
  tenantTokens?: Record<string, string>;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  maxImportBytes: number;
  importTimeoutMs: number;
  upstreamTimeoutMs: number;
}

export function edgeConfig(env: EdgeEnv): EdgeConfig {
  const bad = (m: string) => new SemcacheError('CONFIG', `edge worker configuration: ${m}`);
  const url = (name: 'UPSTREAM_BASE_URL' | 'EMBEDDINGS_URL') => {
    const v = env[name];
    if (typeof v !== 'string' || !/^https?:\/\/[^/]/i.test(v)) throw bad(`${name} must be an http(s) URL, got ${JSON.stringify(v ?? null)}`);
    return v;
  };
  const num = (name: keyof EdgeEnv, dflt: number, min: number, max: number, int: boolean) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return dflt;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      throw bad(`${name} must be ${int ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(raw)}`);
    }
    return v;
  };
  const embedder = env.EMBEDDER || 'remote';
  if (embedder !== 'remote' && embedder !== 'use-lite') throw bad(`EMBEDDER must be remote or use-lite, got ${JSON.stringify(embedder)}`);
  const remote = embedder === 'remote';
  if (remote && !env.EMBEDDINGS_MODEL) throw bad('EMBEDDINGS_MODEL is not set');
  const dims = remote ? num('EMBEDDINGS_DIMENSIONS', 0, 0, 65536, true) : 0;
  const space = env.INDEX_SPACE || 'int8';
  if (space !== 'int8' && space !== 'f32') throw bad(`INDEX_SPACE must be int8 or f32, got ${JSON.stringify(space)}`);
  const send = remote ? (env.EMBEDDINGS_SEND_DIMENSIONS ?? 'false') : 'false';
  if (send !== 'true' && send !== 'false') throw bad(`EMBEDDINGS_SEND_DIMENSIONS must be true or false, got ${JSON.stringify(send)}`);
  if (send === 'true' && !dims) throw bad('EMBEDDINGS_SEND_DIMENSIONS needs EMBEDDINGS_DIMENSIONS');
  if (!env.UPSTREAM_API_KEY && !env.CREDENTIAL_HASH_KEY) {
    throw bad('without UPSTREAM_API_KEY the client\'s own key reaches the upstream, and entries are kept per key: set the secret CREDENTIAL_HASH_KEY (any long random string)');
  }
  let tenantTokens: Record<string, string> | undefined;
  if (env.TENANT_TOKENS) {
    try {
      tenantTokens = JSON.parse(env.TENANT_TOKENS);
    } catch {
      tenantTokens = undefined;
    }
    if (!tenantTokens || typeof tenantTokens !== 'object' || Array.isArray(tenantTokens) || !Object.values(tenantTokens).every((t) => typeof t === 'string' && t)) {
      throw bad('TENANT_TOKENS must be a JSON object {"token": "tenant"}');
    }
  }
  return {
    upstreamBaseUrl: url('UPSTREAM_BASE_URL'),
    embedder,
    embeddingsUrl: remote ? url('EMBEDDINGS_URL') : '',
    embeddingsModel: remote ? env.EMBEDDINGS_MODEL! : '',
    embeddingsDimensions: dims || undefined,
    sendDimensions: send === 'true',
    space,
    embeddingsTimeoutMs: num('EMBEDDINGS_TIMEOUT_MS', 10_000, 0, 600_000, true),
    threshold: remote || env.SIMILARITY_THRESHOLD ? num('SIMILARITY_THRESHOLD', 0.9, -1, 1, false) : undefined,
    shardsPerTenant: num('SHARDS_PER_TENANT', 1, 1, 1024, true),
    maxEntries: num('MAX_ENTRIES', 20_000, 1, 10_000_000, true),
    ttlMs: num('TTL_SECONDS', 0, 0, 1e9, false) * 1000,
    tenantHeader: env.TENANT_HEADER || 'x-semcache-tenant',
    snapshotDelayMs: num('SNAPSHOT_DELAY_MS', 30_000, 0, 86_400_000, true),
    maxShardsPerIsolate: num('MAX_SHARDS_PER_ISOLATE', 4, 1, 1000, true),
    corsOrigins: (env.CORS_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    tenantTokens,
    maxBodyBytes: num('MAX_BODY_BYTES', 1 << 20, 1, 100 << 20, true),
    bodyTimeoutMs: num('BODY_TIMEOUT_MS', 30_000, 1, 600_000, true),
    maxImportBytes: num('MAX_IMPORT_BYTES', 64 << 20, 1, 4 << 30, true),
    importTimeoutMs: num('IMPORT_TIMEOUT_MS', 600_000, 1, 3_600_000, true),
    upstreamTimeoutMs: num('UPSTREAM_TIMEOUT_MS', 60_000, 1, 3_600_000, true),
  };
}
