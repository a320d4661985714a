// Miniflare (workerd from npm) set up the way Cloudflare runs a worker: ES modules, .wasm
// imported as compiled modules (no compiling from bytes, no eval).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { collectModules, hasComputedImport } from '../../tools/modules.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `modulesRoot` names the modules (as an upload's base_dir does): the repository by default.
 * @param {{ script: string, persist?: string, bindings?: Record<string, string>, durable?: boolean, modulesRoot?: string }} o
 */
export function workerMiniflare({ script, persist, bindings = {}, durable = false, modulesRoot = root }) {
  const entry = path.resolve(root, script);
  const modules = collectModules(entry);
  return new Miniflare({
    // Miniflare follows a script's imports itself, but refuses an import() of a computed name,
    // which ONNX Runtime has: then the modules are listed here, as wrangler.onnx.toml uploads them.
    ...(hasComputedImport(modules)
      ? { modules }
      : { modules: true, scriptPath: entry, modulesRules: [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }] }),
    modulesRoot,
    compatibilityDate: '2025-01-01',
    ...(durable ? { durableObjects: { CACHE: { className: 'SemcacheShard', useSQLite: true } }, durableObjectsPersist: persist } : {}),
    bindings,
  });
}

/**
 * The edge worker (workers/edge/worker.mjs) with its Durable Object, in front of an LLM and an
 * embeddings endpoint (the fakes of fake-servers.mjs: bag-of-words vectors, threshold 0.8).
 * @param {{ persist: string, upstreamUrl: string, embeddingsUrl: string, vars?: Record<string, string> }} o
 */
export function edgeMiniflare({ persist, upstreamUrl, embeddingsUrl, vars = {} }) {
  return workerMiniflare({
    script: 'workers/edge/worker.mjs',
    durable: true,
    persist,
    bindings: {
      UPSTREAM_BASE_URL: upstreamUrl,
      EMBEDDINGS_URL: embeddingsUrl,
      EMBEDDINGS_MODEL: 'toy-bag-of-words',
      SIMILARITY_THRESHOLD: '0.8',
      // pass-through mode (no UPSTREAM_API_KEY) keeps entries per client key, hashed with this
      CREDENTIAL_HASH_KEY: 'credential-hash-key-for-tests',
      ...vars,
    },
  });
}

/** Resident memory of workerd (this process's child processes), in MB. */
export function workerdRssMB() {
  const pids = execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' }).trim().split(/\s+/).filter(Boolean);
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return kb / 1024;
}
