// The server's configuration: flags, an optional JSON config file, and environment variables.
// Precedence: flags > config file > environment > defaults.
import fs from 'node:fs';
import { parseArgs } from 'node:util';

export interface ServerConfig {
  port: number;
  host: string;
  /** OpenAI-compatible upstream base URL; absent: the bundled GPT-2, in-process. */
  upstream?: string;
  /** Environment variable holding the upstream API key (server-side). Without it, clients'
   * Authorization headers pass through. */
  upstreamKeyEnv: string;
  /** GPT-2 checkpoint folder (config.json + model.safetensors) for the in-process upstream. */
  gpt2Dir: string;
  gpt2Format: 'f32' | 'f16' | 'int8';
  threshold?: number;
  /** Unset: the embedder's calibrated evaluator (the default encoder's: 'learned' at 2% false hits). */
  evaluator?: 'cosine' | 'margin' | 'learned';
  /** For the 'learned' evaluator: the share of non-duplicate questions allowed to hit. */
  maxFalseHitRate?: number;
  eviction: 'lru' | 'lfu' | 'fifo';
  maxEntries: number;
  maxBytes: number;
  ttl: number;
  /** SQLite file for the cache, or 'memory'. */
  storage: string;
  quiet: boolean;
  /** Environment variable holding the admin token (/cache/put, /cache/clear, /cache/flush). */
  adminTokenEnv: string;
  /** Origins allowed to call from another site (CORS); none by default. */
  corsOrigins: string[];
  /** Host names the server answers to ('*': any); default: loopback names when bound to
   * loopback, else any. */
  allowedHosts?: string[];
  tenantHeader: string;
  /** Environment variable with the secret an authenticating proxy sends with the tenant header. */
  tenantProxySecretEnv?: string;
  /** Environment variable with a JSON object {token: tenant} of tenant tokens. */
  tenantTokensEnv?: string;
  /** Environment variable with the key of the hash that keeps pass-through credentials apart. */
  credentialKeyEnv: string;
  maxBodyBytes: number;
  bodyTimeout: number;
  /** Largest POST /cache/import body (streamed). */
  maxImportBytes: number;
  importTimeout: number;
  upstreamTimeout: number;
}

export const HELP = `semcache server: the offline web demo and an OpenAI-compatible caching endpoint

usage: npm start -- [options]

  --port N              port to listen on (default 8787; env PORT)
  --host H              address to bind (default 127.0.0.1)
  --upstream URL        OpenAI-compatible LLM to cache (env SEMCACHE_UPSTREAM); default: the
                        bundled GPT-2, in-process, fully offline
  --upstream-key-env V  environment variable with the upstream's API key (default
                        UPSTREAM_API_KEY); if unset, clients' Authorization headers pass through.
                        Keys are never logged or cached.
  --gpt2-dir DIR        GPT-2 checkpoint (config.json, model.safetensors) for the default upstream
                        (default ../shared/models/brown-gpt2)
  --gpt2-format F       f32 | f16 | int8 weights for the in-process GPT-2 (default int8)
  --threshold X         cosine similarity in [-1, 1] for a hit (default: the embedder's calibrated)
  --evaluator E         cosine | margin | learned (default: the embedder's calibrated one, for
                        the default encoder learned); learned: a model over the embeddings and
                        the prompts' words that scores "same question"
  --max-false-hit-rate R  for learned: share of different questions allowed to hit, as
                        calibrated on held-out QQP pairs (default 0.02)
  --eviction P          lru | lfu | fifo (default lru)
  --max-entries N       most entries kept (default 100000; 0 = unlimited)
  --max-bytes N         byte budget, answers + vectors (default 0 = unlimited)
  --ttl MS              entry lifetime in ms (default 0 = forever)
  --storage PATH        where the cache persists (default .cache/semcache.db); 'memory' for none
  --config FILE         JSON file with any of these options (camelCase keys: maxEntries, …)
  --admin-token-env V   environment variable with the admin token that /cache/put, /cache/clear
                        and /cache/flush need (X-Semcache-Admin-Token; default
                        SEMCACHE_ADMIN_TOKEN); if unset, those routes answer only same-origin
                        requests from loopback
  --cors-origin LIST    comma-separated origins allowed to call from other sites (default none)
  --allowed-hosts LIST  Host names to answer to (default: localhost, 127.0.0.1, [::1] when bound
                        to loopback, else any; '*' = any)
  --tenant-header H     header naming the tenant (default x-semcache-tenant)
  --tenant-proxy-secret-env V  environment variable with the secret that an authenticating proxy
                        sends in X-Semcache-Proxy-Secret; then only such requests are served
  --tenant-tokens-env V environment variable with a JSON object {"token": "tenant", …}; then
                        clients send X-Semcache-Tenant-Token and the tenant is the token's
  --credential-key-env V  environment variable with the key of the hash that keeps clients'
                        own API keys apart in pass-through mode (default SEMCACHE_CREDENTIAL_KEY;
                        if unset, a random key kept next to the storage file)
  --max-body-bytes N    largest request body in bytes (default 1048576)
  --body-timeout MS     the request body must arrive within MS (default 30000)
  --max-import-bytes N  largest POST /cache/import body in bytes, read as it streams in
                        (default 268435456)
  --import-timeout MS   an import body must arrive within MS (default 600000)
  --upstream-timeout MS the upstream must answer, and keep streaming, within MS (default 60000)
  --quiet               no request log
  --help                this text

Endpoints: POST /v1/chat/completions, POST /v1/completions (streaming and not),
POST /cache/get, /cache/put, /cache/clear, /cache/flush, GET /cache/stats, GET /cache/export,
POST /cache/import, and the demo at /.
Every response carries X-Semcache: hit | miss | bypass (and X-Semcache-Similarity on hits).
Who may call what: docs/security.md.`;

const DEFAULTS: ServerConfig = {
  port: 8787,
  host: '127.0.0.1',
  upstreamKeyEnv: 'UPSTREAM_API_KEY',
  gpt2Dir: '../shared/models/brown-gpt2',
  gpt2Format: 'int8',
  eviction: 'lru',
  maxEntries: 100_000,
  maxBytes: 0,
  ttl: 0,
  storage: '.cache/semcache.db',
  quiet: false,
  adminTokenEnv: 'SEMCACHE_ADMIN_TOKEN',
  corsOrigins: [],
  tenantHeader: 'x-semcache-tenant',
  credentialKeyEnv: 'SEMCACHE_CREDENTIAL_KEY',
  maxBodyBytes: 1 << 20,
  bodyTimeout: 30_000,
  maxImportBytes: 256 << 20,
  importTimeout: 600_000,
  upstreamTimeout: 60_000,
};

export class ConfigError extends Error {}

export function parseConfig(argv: string[], env: Record<string, string | undefined> = process.env): ServerConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        upstream: { type: 'string' },
        'upstream-key-env': { type: 'string' },
        'gpt2-dir': { type: 'string' },
        'gpt2-format': { type: 'string' },
        threshold: { type: 'string' },
        evaluator: { type: 'string' },
        'max-false-hit-rate': { type: 'string' },
        eviction: { type: 'string' },
        'max-entries': { type: 'string' },
        'max-bytes': { type: 'string' },
        ttl: { type: 'string' },
        storage: { type: 'string' },
        config: { type: 'string' },
        quiet: { type: 'boolean' },
        'admin-token-env': { type: 'string' },
        'cors-origin': { type: 'string' },
        'allowed-hosts': { type: 'string' },
        'tenant-header': { type: 'string' },
        'tenant-proxy-secret-env': { type: 'string' },
        'tenant-tokens-env': { type: 'string' },
        'credential-key-env': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'body-timeout': { type: 'string' },
        'max-import-bytes': { type: 'string' },
        'import-timeout': { type: 'string' },
        'upstream-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n(see --help)`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  let file: Record<string, unknown> = {};
  if (v.config) {
    try {
      file = JSON.parse(fs.readFileSync(v.config, 'utf8'));
    } catch (e) {
      throw new ConfigError(`cannot read config file ${v.config}: ${(e as Error).message}`);
    }
    if (!file || typeof file !== 'object' || Array.isArray(file)) throw new ConfigError(`config file ${v.config} must hold a JSON object`);
    const known = new Set([...Object.keys(DEFAULTS), 'upstream', 'threshold', 'evaluator', 'maxFalseHitRate', 'allowedHosts', 'tenantProxySecretEnv', 'tenantTokensEnv']);
    for (const k of Object.keys(file)) if (!known.has(k)) throw new ConfigError(`config file ${v.config}: unknown option '${k}'`);
  }
  const flag: Partial<Record<keyof ServerConfig, unknown>> = {
    port: v.port,
    host: v.host,
    upstream: v.upstream,
    upstreamKeyEnv: v['upstream-key-env'],
    gpt2Dir: v['gpt2-dir'],
    gpt2Format: v['gpt2-format'],
    threshold: v.threshold,
    evaluator: v.evaluator,
    maxFalseHitRate: v['max-false-hit-rate'],
    eviction: v.eviction,
    maxEntries: v['max-entries'],
    maxBytes: v['max-bytes'],
    ttl: v.ttl,
    storage: v.storage,
    quiet: v.quiet,
    adminTokenEnv: v['admin-token-env'],
    corsOrigins: v['cors-origin'],
    allowedHosts: v['allowed-hosts'],
    tenantHeader: v['tenant-header'],
    tenantProxySecretEnv: v['tenant-proxy-secret-env'],
    tenantTokensEnv: v['tenant-tokens-env'],
    credentialKeyEnv: v['credential-key-env'],
    maxBodyBytes: v['max-body-bytes'],
    bodyTimeout: v['body-timeout'],
    maxImportBytes: v['max-import-bytes'],
    importTimeout: v['import-timeout'],
    upstreamTimeout: v['upstream-timeout'],
  };
  const envs: Partial<Record<keyof ServerConfig, unknown>> = { port: env.PORT, upstream: env.SEMCACHE_UPSTREAM };
  const pick = (k: keyof ServerConfig) => flag[k] ?? file[k] ?? envs[k] ?? DEFAULTS[k];
  const num = (k: keyof ServerConfig, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const raw = pick(k);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${k} must be a number in [${min}, ${max}], got '${raw}'`);
    return n;
  };
  const oneOf = <T extends string>(k: keyof ServerConfig, allowed: readonly T[]): T => {
    const raw = String(pick(k));
    if (!allowed.includes(raw as T)) throw new ConfigError(`${k} must be one of ${allowed.join(', ')}, got '${raw}'`);
    return raw as T;
  };
  const upstream = pick('upstream') as string | undefined;
  if (upstream !== undefined) {
    try {
      const u = new URL(upstream);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw new ConfigError(`upstream must be an http(s) URL, got '${upstream}'`);
    }
  }
  const list = (k: keyof ServerConfig): string[] | undefined => {
    const raw = pick(k);
    if (raw === undefined) return undefined;
    const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
    return items.map((x) => x.trim()).filter(Boolean);
  };
  const optional = (k: keyof ServerConfig) => (pick(k) === undefined ? undefined : String(pick(k)));
  const hosts = list('allowedHosts');
  return {
    port: num('port', 0, 65535)!,
    host: String(pick('host')),
    upstream,
    upstreamKeyEnv: String(pick('upstreamKeyEnv')),
    gpt2Dir: String(pick('gpt2Dir')),
    gpt2Format: oneOf('gpt2Format', ['f32', 'f16', 'int8'] as const),
    threshold: num('threshold', -1, 1),
    evaluator: pick('evaluator') === undefined ? undefined : oneOf('evaluator', ['cosine', 'margin', 'learned'] as const),
    maxFalseHitRate: num('maxFalseHitRate', 0, 1),
    eviction: oneOf('eviction', ['lru', 'lfu', 'fifo'] as const),
    maxEntries: num('maxEntries', 0)!,
    maxBytes: num('maxBytes', 0)!,
    ttl: num('ttl', 0)!,
    storage: String(pick('storage')),
    quiet: Boolean(pick('quiet')),
    adminTokenEnv: String(pick('adminTokenEnv')),
    corsOrigins: list('corsOrigins')!,
    allowedHosts: hosts,
    tenantHeader: String(pick('tenantHeader')),
    tenantProxySecretEnv: optional('tenantProxySecretEnv'),
    tenantTokensEnv: optional('tenantTokensEnv'),
    credentialKeyEnv: String(pick('credentialKeyEnv')),
    maxBodyBytes: num('maxBodyBytes', 1, 1 << 30)!,
    bodyTimeout: num('bodyTimeout', 1, 3_600_000)!,
    maxImportBytes: num('maxImportBytes', 1, 2 ** 40)!,
    importTimeout: num('importTimeout', 1, 86_400_000)!,
    upstreamTimeout: num('upstreamTimeout', 1, 3_600_000)!,
  };
}
