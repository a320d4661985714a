// The package's Node entry: the browser/edge entry (index.ts) plus reading the .wasm from disk,
// which the Emscripten 3.1.6 glue cannot do in Node (it tries fetch() on a file path).
import { readFile } from 'node:fs/promises';
import { setDefaultWasmBinary } from './wasm.js';

setDefaultWasmBinary(() => readFile(new URL('./wasm/semcache_core.wasm', import.meta.url)));

export * from './index.js';
