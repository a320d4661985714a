// The semcache edge worker: an OpenAI-compatible caching proxy in front of UPSTREAM_BASE_URL,
// with each tenant's cache in its own SQLite-backed Durable Object(s). Deploy: see README.md,
// "Deploying to the edge". The glue and the .wasm are imported as modules: workerd compiles
// no wasm from bytes and runs no eval.
import { DurableObject } from 'cloudflare:workers';
import createSemcacheCore from '../../dist/wasm/semcache_core.mjs';
import wasmModule from '../../dist/wasm/semcache_core.wasm';
import { createEdgeFetch, ShardState } from '../../dist/edge/index.js';

const wasm = { factory: createSemcacheCore, wasmModule };

/** One shard of one tenant's cache: the wasm core in memory, the rows in ctx.storage.sql. */
export class SemcacheShard extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.shard = new ShardState(ctx, env, wasm);
  }

  /** The worker's only RPC: op is one of js/edge/shard.ts's ShardOp (get | put | clear | stats |
   * flush, the flight verbs of begin, the export/import verbs). */
  call(op, args) {
    return this.shard.call(op, args);
  }

  alarm() {
    return this.shard.alarm();
  }
}

export default { fetch: createEdgeFetch() };
