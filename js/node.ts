// The package's Node entry: the browser/edge entry (index.ts) plus reading the .wasm from disk,
// which the Emscripten 3.1.6 glue cannot do in Node (it tries fetch() on a file path), and the
// SQLite file store (storage: 'file').
import { readFile } from 'node:fs/promises';
import { SemcacheError } from './errors.js';
import { registerStorage } from './semantic-cache.js';
import { NodeSqliteStore } from './stores/node-sqlite.js';
import { setDefaultWasmBinary } from './wasm.js';

setDefaultWasmBinary(() => readFile(new URL('./wasm/semcache_core.wasm', import.meta.url)));

registerStorage('file', (o) => {
  if (typeof o.path !== 'string' || !o.path) throw new SemcacheError('INVALID_ARGUMENT', "storage: 'file' needs a path");
  return new NodeSqliteStore(o.path, { onCorrupt: o.onCorrupt });
});

export * from './index.js';
export { NodeSqliteStore } from './stores/node-sqlite.js';
export type { NodeSqliteStoreOptions } from './stores/node-sqlite.js';
