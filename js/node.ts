// The package's Node entry: the browser/edge entry (index.ts) plus what only Node can do, given
// to the shared code through `platform` so that index.ts never imports a `node:` module:
// reading files (the .wasm, local models), a disk cache for downloaded model files, and the
// SQLite file store (storage: 'file').
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SemcacheError } from './errors.js';
import { platform } from './platform.js';
import { registerStorage } from './storage.js';
import { NodeSqliteStore } from './stores/node-sqlite.js';
import { setDefaultWasmBinary } from './wasm.js';

const cacheDir =
  process.env.SEMCACHE_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'semcache', 'models');
const cacheFile = (key: string) => path.join(cacheDir, createHash('sha256').update(key).digest('hex'));

platform.readFile = async (url) => new Uint8Array(await readFile(url));
platform.cacheDir = cacheDir;
platform.readCached = async (key) => {
  try {
    return new Uint8Array(await readFile(cacheFile(key)));
  } catch {
    return undefined;
  }
};
platform.writeCached = async (key, bytes) => {
  await mkdir(cacheDir, { recursive: true });
  const file = cacheFile(key);
  const tmp = `${file}.${process.pid}.tmp`;  // write-then-rename: a killed download leaves no half file
  await writeFile(tmp, bytes);
  await rename(tmp, file);
};
setDefaultWasmBinary(() => readFile(new URL('./wasm/semcache_core.wasm', import.meta.url)));

registerStorage('file', {
  store: (o) => {
    if (typeof o.path !== 'string' || !o.path) throw new SemcacheError('INVALID_ARGUMENT', "storage: 'file' needs a path");
    return new NodeSqliteStore(o.path, { onCorrupt: o.onCorrupt });
  },
});

export * from './index.js';
// ONNX Runtime is a separate entry elsewhere ('semcache/onnx'): a page or worker that brings its
// own embedder should not pull in 14 MB of wasm. In Node it costs nothing until used.
export { BUNDLED_MODELS, DEFAULT_MODEL, OnnxEmbedder, USE_LITE_THRESHOLD, type BundledModel } from './embedders/onnx.js';
export type { OnnxEmbedderOptions } from './embedders/onnx.js';
export { NodeSqliteStore } from './stores/node-sqlite.js';
