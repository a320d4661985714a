// semcache/edge: the pieces of the Cloudflare-style worker (see workers/edge/worker.mjs).
export { createEdgeFetch, tenantCache, shardOf, shardName, sumStats } from './worker.js';
export type { ExecutionContextLike, ShardStats } from './worker.js';
export { ShardState, memoEmbedder } from './shard.js';
export type { ShardOp, ShardReply, DurableObjectStateLike, LocalEmbedderLoader } from './shard.js';
export { edgeConfig } from './config.js';
export type { EdgeEnv, EdgeConfig, DurableObjectNamespaceLike } from './config.js';
export { DurableObjectStore } from '../stores/durable-object.js';
export type { DurableObjectStoreOptions, SqlStorageLike, DurableObjectStorageLike } from '../stores/durable-object.js';
export { remoteEmbedder } from '../embedders/remote.js';
export type { RemoteEmbedderOptions } from '../embedders/remote.js';
